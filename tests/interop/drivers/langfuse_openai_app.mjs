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
import { openaiConversation } from './common.mjs';

process.env.LANGFUSE_BASE_URL = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
process.env.LANGFUSE_PUBLIC_KEY = 'pk-lf-interop';
process.env.LANGFUSE_SECRET_KEY = process.env.INTEROP_AUTHORIZATION.replace(/^Bearer /, '');
for (const name of Object.keys(process.env).filter((name) => name.startsWith('OTEL_EXPORTER_OTLP'))) {
  delete process.env[name];
}

const langfuse = new LangfuseSpanProcessor();
const provider = new NodeTracerProvider({ spanProcessors: [langfuse] });
provider.register();

const client = observeOpenAI(
  new OpenAI({ baseURL: process.env.INTEROP_OPENAI_URL, apiKey: 'sk-interop', maxRetries: 0 }),
  { sessionId: process.env.INTEROP_SESSION_ID, userId: process.env.INTEROP_USER_ID },
);
await openaiConversation(client);

await langfuse.forceFlush();
await provider.shutdown();
