import requests
PHOSPHO_API_KEY = "ph_your_api_key"
PHOSPHO_BATCH_URL = "https://co-phospho.nanocorp.app/api/ingest/batch"
def log_batch(events):
    """Send up to 100 events in a single request."""
    response = requests.post(
        PHOSPHO_BATCH_URL,
        headers={"Authorization": f"Bearer {PHOSPHO_API_KEY}"},
        json={"events": events},
    )
    response.raise_for_status()
    return response.json()
# ── Example: batch-send accumulated events ───────────────
events = [
    {
        "input": "Summarize this article",
        "output": "The article discusses recent advances in...",
        "session_id": "session-abc",
        "metadata": {"model": "gpt-4", "latency_ms": 1200},
    },
    {
        "input": "Translate to Spanish",
        "output": "El articulo discute los avances recientes en...",
        "session_id": "session-abc",
        "metadata": {"model": "gpt-4", "latency_ms": 980},
    },
]
result = log_batch(events)
print(result)
