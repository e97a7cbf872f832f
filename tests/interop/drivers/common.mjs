// The scenario's shared parts for the Node drivers (the counterpart of common.py): the conversation's texts, the
// expected failure, and the whole conversation against an OpenAI Node SDK client (plain or wrapped). It imports no
// package: the runner copies it beside each driver, into the environment that holds the driver's node_modules.
export const SYSTEM = 'You are a concise geography assistant.';
export const TURN1 = 'What is the capital of France?';
export const ANSWER1 = 'The capital of France is Paris.';
export const TURN2 = 'Roughly how many people live there?';
export const STREAM = 'Name three rivers in France.';
export const FAIL = 'FAIL_PLEASE: this call must fail.';
export const MODEL = 'gpt-4o-mini';

/** Run `call`, which must fail (the fake LLM answers FAIL_PLEASE with an HTTP 500). */
export async function expectFailure(call) {
  try {
    await call();
  } catch (error) {
    console.log(`expected failure: ${error.name}`);
    return;
  }
  throw new Error('the failing call did not fail');
}

/** Two chat turns, one streamed call with usage, one failing call, with an OpenAI Node SDK client. */
export async function openaiConversation(client) {
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
  await expectFailure(() => client.chat.completions.create({
    model: MODEL, messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: FAIL }] }));
}
