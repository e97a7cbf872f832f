curl -X POST https://co-phospho.nanocorp.app/api/ingest/batch \
-H "Authorization: Bearer ph_your_api_key" \
-H "Content-Type: application/json" \
-d '{
"events": [
{
"input": "Summarize this article",
"output": "The article discusses recent advances in...",
"session_id": "session-abc",
"metadata": { "model": "gpt-4", "latency_ms": 1200 }
},
{
"input": "Translate to Spanish",
"output": "El articulo discute los avances recientes en...",
"session_id": "session-abc",
"metadata": { "model": "gpt-4", "latency_ms": 980 }
}
]
}'
