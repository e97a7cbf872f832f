curl -X POST https://co-phospho.nanocorp.app/api/feedback \
-H "Authorization: Bearer ph_your_api_key" \
-H "Content-Type: application/json" \
-d '{
"event_id": "the-event-uuid",
"flag": "success",
"comment": "Great answer!",
"source": "user"
}'
