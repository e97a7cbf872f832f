// The scenario with the Vercel AI SDK (ai + @ai-sdk/openai chat model), whose built-in OpenTelemetry spans
// go through the Node SDK's OTLP/protobuf exporter; session and user as telemetry metadata (its documented way).
import { createOpenAI } from '@ai-sdk/openai';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';

const SYSTEM = 'You are a concise geography assistant.';
const TURN1 = 'What is the capital of France?';
const TURN2 = 'Roughly how many people live there?';
const STREAM = 'Name three rivers in France.';
const FAIL = 'FAIL_PLEASE: this call must fail.';
const TOOL_QUESTION = 'What is the weather in Paris right now?';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'interop-vercel-ai' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
provider.register();

const openai = createOpenAI({ baseURL: process.env.INTEROP_OPENAI_URL, apiKey: 'sk-interop' });
const model = openai.chat('gpt-4o-mini');
const common = {
  model, system: SYSTEM, maxRetries: 0,
  experimental_telemetry: {
    isEnabled: true, functionId: 'geography-chat',
    metadata: { sessionId: process.env.INTEROP_SESSION_ID, userId: process.env.INTEROP_USER_ID },
  },
};

const first = await generateText({ ...common, messages: [{ role: 'user', content: TURN1 }] });
await generateText({ ...common, messages: [
  { role: 'user', content: TURN1 }, { role: 'assistant', content: first.text }, { role: 'user', content: TURN2 }] });
const stream = streamText({ ...common, prompt: STREAM });
for await (const _ of stream.textStream) { /* read to the end */ }
let failed = false;
try {
  await generateText({ ...common, prompt: FAIL });
} catch (error) {
  failed = true;
  console.log(`expected failure: ${error.name}`);
}
if (!failed) throw new Error('the failing call did not fail');
const getWeather = tool({
  description: 'Current weather in a city.',
  inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
  execute: async ({ city }) => `Sunny and 21 C in ${city}`,
});
await generateText({ ...common, prompt: TOOL_QUESTION, tools: { get_weather: getWeather }, stopWhen: stepCountIs(3) });
await provider.shutdown();
