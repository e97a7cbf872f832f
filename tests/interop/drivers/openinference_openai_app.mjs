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

const SYSTEM = 'You are a concise geography assistant.';
const TURN1 = 'What is the capital of France?';
const ANSWER1 = 'The capital of France is Paris.';
const TURN2 = 'Roughly how many people live there?';
const STREAM = 'Name three rivers in France.';
const FAIL = 'FAIL_PLEASE: this call must fail.';
const MODEL = 'gpt-4o-mini';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'interop-openinference-js' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
provider.register();
new OpenAIInstrumentation().manuallyInstrument(OpenAI);

const client = new OpenAI({ baseURL: process.env.INTEROP_OPENAI_URL, apiKey: 'sk-interop', maxRetries: 0 });
const history = [{ role: 'system', content: SYSTEM }, { role: 'user', content: TURN1 }];

async function run() {
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
}

const identified = setUser(setSession(context.active(), { sessionId: process.env.INTEROP_SESSION_ID }),
  { userId: process.env.INTEROP_USER_ID });
await context.with(identified, run);
await provider.shutdown();
