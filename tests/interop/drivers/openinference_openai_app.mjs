// The scenario with the official OpenAI Node SDK traced by OpenInference JS
// (@arizeai/openinference-instrumentation-openai) on the plain OpenTelemetry Node SDK, OTLP/protobuf exporter.
// ESM: the OpenAI module is handed to `manuallyInstrument` (import hooks do not see it). Session and user with
// OpenInference's context helpers (`setSession` / `setUser`), which its tracer puts on every span it makes.
import { context } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { setSession, setUser } from '@arizeai/openinference-core';
import { OpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import OpenAI from 'openai';
import { openaiConversation } from './common.mjs';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'interop-openinference-js' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
provider.register();
new OpenAIInstrumentation().manuallyInstrument(OpenAI);

const client = new OpenAI({ baseURL: process.env.INTEROP_OPENAI_URL, apiKey: 'sk-interop', maxRetries: 0 });
const run = () => openaiConversation(client);

const identified = setUser(setSession(context.active(), { sessionId: process.env.INTEROP_SESSION_ID }),
  { userId: process.env.INTEROP_USER_ID });
await context.with(identified, run);
await provider.shutdown();
