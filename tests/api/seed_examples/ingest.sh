curl -X POST https://co-phospho.nanocorp.app/api/ingest \
-H "Authorization: Bearer ph_your_api_key" \
-H "Content-Type: application/json" \
-d '{
"input": "What is the capital of France?",
"output": "The capital of France is Paris.",
"metadata": {
"model": "gpt-4",
"latency_ms": 850,
"token_count_input": 12,
"token_count_output": 18
}
}'
