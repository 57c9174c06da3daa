// Reference composition for the comparison tests. Reads JSON on stdin: either one list of
// subgraphs `[{name, url, sdl}]`, answered with `{"supergraphSdl": "..."}` or
// `{"errors": [{"message", "code"}]}`, or `{"batch": [list, list, ...]}`, answered with a
// list of such answers (one node start for many compositions).
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';

function composeOne(subgraphs) {
  let services;
  try {
    services = subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) }));
  } catch (e) {
    return { errors: [{ message: String(e.message), code: 'INVALID_GRAPHQL' }] };
  }
  let result;
  try {
    result = composeServices(services);
  } catch (e) {
    // Reported as an error so one bad case does not hide the answers to the others.
    return { errors: [{ message: `composition threw: ${e.message}`, code: 'REFERENCE_EXCEPTION' }] };
  }
  if (result.errors && result.errors.length > 0) {
    return {
      errors: result.errors.map((e) => ({ message: e.message, code: e.extensions?.code ?? null })),
    };
  }
  return { supergraphSdl: result.supergraphSdl };
}

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const answer = Array.isArray(input) ? composeOne(input) : input.batch.map(composeOne);
process.stdout.write(JSON.stringify(answer));
