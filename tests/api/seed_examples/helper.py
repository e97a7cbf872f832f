import requests
PHOSPHO_API_KEY = "ph_your_api_key"
PHOSPHO_URL = "https://co-phospho.nanocorp.app/api/ingest"
def log_to_phospho(input_text, output_text, session_id=None, metadata=None):
    """Send a single AI interaction event to phospho."""
    response = requests.post(
        PHOSPHO_URL,
        headers={"Authorization": f"Bearer {PHOSPHO_API_KEY}"},
        json={
            "input": input_text,
            "output": output_text,
            "session_id": session_id,
            "metadata": metadata or {},
        },
    )
    response.raise_for_status()
    return response.json()

# (test driver, not from the seed) call the helper once, as a reader of the quickstart would
print(log_to_phospho("helper input", "helper output", session_id="helper-session", metadata={"model": "gpt-4"}))
