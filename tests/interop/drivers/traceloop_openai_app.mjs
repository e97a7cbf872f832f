// The scenario with the official OpenAI Node SDK traced by OpenLLMetry JS (@traceloop/node-server-sdk), set up
// as its docs say for an ESM app: `initialize` with the collector as `baseUrl` (it posts to `${baseUrl}/v1/traces`
// with `Bearer ${apiKey}`) and the OpenAI class handed over in `instrumentModules` (import hooks do not see ESM).
// Session and user are association properties around a workflow, the Traceloop way.
import OpenAI from 'openai';
import * as traceloop from '@traceloop/node-server-sdk';

const SYSTEM = 'You are a concise geography assistant.';
const TURN1 = 'What is the capital of France?';
const ANSWER1 = 'The capital of France is Paris.';
const TURN2 = 'Roughly how many people live there?';
const STREAM = 'Name three rivers in France.';
const FAIL = 'FAIL_PLEASE: this call must fail.';
const MODEL = 'gpt-4o-mini';

traceloop.initialize({
  appName: 'interop-traceloop-js',
  baseUrl: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  apiKey: process.env.INTEROP_AUTHORIZATION.replace(/^Bearer /, ''),
  silenceInitializationMessage: true,
  instrumentModules: { openAI: OpenAI },
});

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

await traceloop.withAssociationProperties(
  { [traceloop.AssociationProperty.SESSION_ID]: process.env.INTEROP_SESSION_ID,
    [traceloop.AssociationProperty.USER_ID]: process.env.INTEROP_USER_ID },
  () => traceloop.withWorkflow({ name: 'geography_chat' }, run));
await traceloop.forceFlush();
