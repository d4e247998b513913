// Reading a spec file the operator imports: anything that is not a spec is refused with
// what is wrong, before the shell is asked to check the rules themselves.

import type { Spec } from '../bindings/Spec';

export function parseSpecFile(text: string, fileName = 'the file'): Spec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${fileName} is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${fileName} is not a connector spec: it should be a JSON object.`);
  }
  const spec = value as Record<string, unknown>;
  for (const field of ['format', 'connector', 'version', 'modules'] as const) {
    if (!(field in spec)) throw new Error(`${fileName} is not a connector spec: it has no "${field}".`);
  }
  if (!Array.isArray(spec.modules)) throw new Error(`${fileName}: "modules" should be a list.`);
  spec.modules.forEach((module, index) => {
    const m = module as Record<string, unknown>;
    if (typeof m?.name !== 'string' || typeof m?.entity !== 'string' || typeof m?.methods !== 'object') {
      throw new Error(`${fileName}: module ${index + 1} needs a name, an entity and methods.`);
    }
  });
  return { variables: [], lookups: [], ...spec } as unknown as Spec;
}

export function specFileName(instance: string): string {
  return `${instance.replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '') || 'connector'}-spec.json`;
}
