// The scenario with the Vercel AI SDK 7 (ai + @ai-sdk/openai chat model), whose OpenTelemetry spans now come
// from the separate @ai-sdk/otel integration (`registerTelemetry(new OpenTelemetry())`, GenAI conventions);
// session and user on an app parent span (`session.id`, `user.id`), the plain OpenTelemetry way.
import { createOpenAI } from '@ai-sdk/openai';
import { OpenTelemetry } from '@ai-sdk/otel';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { generateText, jsonSchema, registerTelemetry, stepCountIs, streamText, tool } from 'ai';

const SYSTEM = 'You are a concise geography assistant.';
const TURN1 = 'What is the capital of France?';
const TURN2 = 'Roughly how many people live there?';
const STREAM = 'Name three rivers in France.';
const FAIL = 'FAIL_PLEASE: this call must fail.';
const TOOL_QUESTION = 'What is the weather in Paris right now?';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'interop-vercel-ai7' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
provider.register();
registerTelemetry(new OpenTelemetry());

const openai = createOpenAI({ baseURL: process.env.INTEROP_OPENAI_URL, apiKey: 'sk-interop' });
const common = { model: openai.chat('gpt-4o-mini'), system: SYSTEM, maxRetries: 0,
  telemetry: { functionId: 'geography-chat' } };
const getWeather = tool({
  description: 'Current weather in a city.',
  inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
  execute: async ({ city }) => `Sunny and 21 C in ${city}`,
});

const attributes = { 'session.id': process.env.INTEROP_SESSION_ID, 'user.id': process.env.INTEROP_USER_ID };
await trace.getTracer('interop.app').startActiveSpan('conversation', { attributes }, async (span) => {
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
  await generateText({ ...common, prompt: TOOL_QUESTION, tools: { get_weather: getWeather }, stopWhen: stepCountIs(3) });
  span.end();
});
await provider.shutdown();
