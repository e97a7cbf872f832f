import requests
import uuid
PHOSPHO_API_KEY = "ph_your_api_key"
PHOSPHO_URL = "https://co-phospho.nanocorp.app/api/ingest"
def create_session_id(user_id=None):
    """Generate a unique session ID, optionally prefixed with user ID."""
    if user_id:
        return f"{user_id}-{uuid.uuid4().hex[:8]}"
    return str(uuid.uuid4())
# ── Multi-turn conversation with session tracking ────────
session_id = create_session_id(user_id="user-42")
# Turn 1
requests.post(
    PHOSPHO_URL,
    headers={"Authorization": f"Bearer {PHOSPHO_API_KEY}"},
    json={
        "input": "What is machine learning?",
        "output": "Machine learning is a subset of AI that enables...",
        "session_id": session_id,
        "metadata": {
            "model": "gpt-4",
            "user_id": "user-42",
            "tags": ["onboarding", "education"],
        },
    },
)
# Turn 2 — same session_id groups them together
requests.post(
    PHOSPHO_URL,
    headers={"Authorization": f"Bearer {PHOSPHO_API_KEY}"},
    json={
        "input": "Can you give me a real-world example?",
        "output": "A common example is email spam filtering...",
        "session_id": session_id,
        "metadata": {
            "model": "gpt-4",
            "user_id": "user-42",
            "tags": ["onboarding", "education"],
        },
    },
)
# All events with the same session_id appear together
# in the phospho dashboard under Sessions.
print(session_id)
