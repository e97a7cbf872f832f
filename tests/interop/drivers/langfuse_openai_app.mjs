// The scenario as a Langfuse JS user writes it: the OpenAI Node SDK wrapped by `observeOpenAI` (@langfuse/openai),
// session and user in its config (`sessionId`, `userId`, as Langfuse's OpenAI JS guide shows), and Langfuse's
// `LangfuseSpanProcessor` (@langfuse/otel, its own OTLP/HTTP exporter with HTTP Basic auth to
// `{LANGFUSE_BASE_URL}/api/public/otel/v1/traces`) on the plain OpenTelemetry Node SDK.
// The switch to phosphobs is only the base URL (the suite's recording tap) and the secret key (a phosphobs key); the
// suite's own OTLP settings are removed first, so nothing but the Langfuse set-up can reach the server.
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { observeOpenAI } from '@langfuse/openai';
import OpenAI from 'openai';

process.env.LANGFUSE_BASE_URL = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
process.env.LANGFUSE_PUBLIC_KEY = 'pk-lf-interop';
process.env.LANGFUSE_SECRET_KEY = process.env.INTEROP_AUTHORIZATION.replace(/^Bearer /, '');
for (const name of Object.keys(process.env).filter((name) => name.startsWith('OTEL_EXPORTER_OTLP'))) {
  delete process.env[name];
}

const SYSTEM = 'You are a concise geography assistant.';
const TURN1 = 'What is the capital of France?';
const ANSWER1 = 'The capital of France is Paris.';
const TURN2 = 'Roughly how many people live there?';
const STREAM = 'Name three rivers in France.';
const FAIL = 'FAIL_PLEASE: this call must fail.';
const MODEL = 'gpt-4o-mini';

const langfuse = new LangfuseSpanProcessor();
const provider = new NodeTracerProvider({ spanProcessors: [langfuse] });
provider.register();

const client = observeOpenAI(
  new OpenAI({ baseURL: process.env.INTEROP_OPENAI_URL, apiKey: 'sk-interop', maxRetries: 0 }),
  { sessionId: process.env.INTEROP_SESSION_ID, userId: process.env.INTEROP_USER_ID },
);
const history = [{ role: 'system', content: SYSTEM }, { role: 'user', content: TURN1 }];

await client.chat.completions.create({ model: MODEL, messages: history, temperature: 0.2, max_tokens: 128 });
await client.chat.completions.create({
  model: MODEL, temperature: 0.2, max_tokens: 128,
  messages: [...history, { role: 'assistant', content: ANSWER1 }, { role: 'user', content: TURN2 }],
});
const stream = await client.chat.completions.create({
  model: MODEL, stream: true, stream_options: { include_usage: true },
  messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: STREAM }],
});
for await (const _ of stream) { /* read to the end */ }
let failed = false;
try {
  await client.chat.completions.create({
    model: MODEL, messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: FAIL }] });
} catch (error) {
  failed = true;
  console.log(`expected failure: ${error.name}`);
}
if (!failed) throw new Error('the failing call did not fail');

await langfuse.forceFlush();
await provider.shutdown();
