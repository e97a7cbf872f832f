// The scenario with LangChain JS's ChatOpenAI (@langchain/openai), traced by OpenInference
// (@arizeai/openinference-instrumentation-langchain) on the plain OpenTelemetry Node SDK, OTLP/protobuf exporter.
// As its docs say, LangChain's callback manager module is instrumented by hand. Session and user with
// OpenInference's context helpers (`setSession` / `setUser`).
import { context } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { setSession, setUser } from '@arizeai/openinference-core';
import { LangChainInstrumentation } from '@arizeai/openinference-instrumentation-langchain';
import * as CallbackManagerModule from '@langchain/core/callbacks/manager';
import { AIMessage, HumanMessage, SystemMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { ANSWER1, FAIL, STREAM, SYSTEM, TURN1, TURN2, expectFailure } from './common.mjs';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'interop-langchain-js' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
provider.register();
new LangChainInstrumentation().manuallyInstrument(CallbackManagerModule);

const llm = new ChatOpenAI({
  model: 'gpt-4o-mini', temperature: 0.2, maxRetries: 0, streamUsage: true, apiKey: 'sk-interop',
  configuration: { baseURL: process.env.INTEROP_OPENAI_URL },
});

async function run() {
  const first = await llm.invoke([new SystemMessage(SYSTEM), new HumanMessage(TURN1)]);
  if (first.content !== ANSWER1) throw new Error(`unexpected answer ${first.content}`);
  await llm.invoke([new SystemMessage(SYSTEM), new HumanMessage(TURN1), new AIMessage(ANSWER1),
    new HumanMessage(TURN2)]);
  for await (const _ of await llm.stream([new SystemMessage(SYSTEM), new HumanMessage(STREAM)])) { /* read all */ }
  await expectFailure(() => llm.invoke([new SystemMessage(SYSTEM), new HumanMessage(FAIL)]));
}

const identified = setUser(setSession(context.active(), { sessionId: process.env.INTEROP_SESSION_ID }),
  { userId: process.env.INTEROP_USER_ID });
await context.with(identified, run);
await provider.shutdown();
