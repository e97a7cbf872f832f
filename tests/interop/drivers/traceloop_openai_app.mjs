// The scenario with the official OpenAI Node SDK traced by OpenLLMetry JS (@traceloop/node-server-sdk), set up
// as its docs say for an ESM app: `initialize` with the collector as `baseUrl` (it posts to `${baseUrl}/v1/traces`
// with `Bearer ${apiKey}`) and the OpenAI class handed over in `instrumentModules` (import hooks do not see ESM).
// Session and user are association properties around a workflow, the Traceloop way.
import OpenAI from 'openai';
import { openaiConversation } from './common.mjs';
import * as traceloop from '@traceloop/node-server-sdk';

traceloop.initialize({
  appName: 'interop-traceloop-js',
  baseUrl: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  apiKey: process.env.INTEROP_AUTHORIZATION.replace(/^Bearer /, ''),
  silenceInitializationMessage: true,
  instrumentModules: { openAI: OpenAI },
});

const client = new OpenAI({ baseURL: process.env.INTEROP_OPENAI_URL, apiKey: 'sk-interop', maxRetries: 0 });
const run = () => openaiConversation(client);

await traceloop.withAssociationProperties(
  { [traceloop.AssociationProperty.SESSION_ID]: process.env.INTEROP_SESSION_ID,
    [traceloop.AssociationProperty.USER_ID]: process.env.INTEROP_USER_ID },
  () => traceloop.withWorkflow({ name: 'geography_chat' }, run));
await traceloop.forceFlush();
