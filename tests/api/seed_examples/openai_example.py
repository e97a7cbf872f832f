import openai
import requests
import time
# ── Config ───────────────────────────────────────────────
PHOSPHO_API_KEY = "ph_your_api_key"
PHOSPHO_URL = "https://co-phospho.nanocorp.app/api/ingest"
client = openai.OpenAI()
def chat_with_logging(user_message, session_id=None):
    """Call OpenAI and automatically log to phospho."""
    start = time.time()
    # 1. Call OpenAI as usual
    response = client.chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": user_message}],
    )
    latency_ms = int((time.time() - start) * 1000)
    ai_response = response.choices[0].message.content
    # 2. Log the interaction to phospho
    requests.post(
        PHOSPHO_URL,
        headers={"Authorization": f"Bearer {PHOSPHO_API_KEY}"},
        json={
            "input": user_message,
            "output": ai_response,
            "session_id": session_id,
            "metadata": {
                "model": "gpt-4",
                "provider": "openai",
                "latency_ms": latency_ms,
                "token_count_input": response.usage.prompt_tokens,
                "token_count_output": response.usage.completion_tokens,
            },
        },
    )
    return ai_response
# ── Usage ────────────────────────────────────────────────
answer = chat_with_logging(
    "Explain quantum computing in simple terms",
    session_id="user-456-session",
)
print(answer)
