// Editing the rules of one method of one module, without touching anything else of the spec.

import type { Method } from '../bindings/Method';
import type { MethodName } from '../bindings/MethodName';
import type { Module } from '../bindings/Module';
import type { ModuleSpec } from '../bindings/ModuleSpec';
import type { Rule } from '../bindings/Rule';
import type { Spec } from '../bindings/Spec';

export type RuleMethod = Exclude<MethodName, 'push_delete'>;

export function isRuleMethod(method: MethodName): method is RuleMethod {
  return method !== 'push_delete';
}

export function findModule(spec: Spec, module: string): ModuleSpec | undefined {
  return spec.modules.find((m) => m.name === module);
}

export function rulesOf(spec: Spec, module: string, method: MethodName): Rule[] {
  const found = findModule(spec, module);
  if (!found || !isRuleMethod(method)) return [];
  return found.methods[method].rules;
}

/** A new spec whose `module`'s `method` has `rules`; every other part is shared. */
export function withRules(spec: Spec, module: string, method: RuleMethod, rules: Rule[]): Spec {
  return {
    ...spec,
    modules: spec.modules.map((m) => {
      if (m.name !== module) return m;
      const current: Method = m.methods[method];
      return { ...m, methods: { ...m.methods, [method]: { ...current, rules } } };
    }),
  };
}

export function addRule(rules: Rule[], rule: Rule = { target: '', expr: '' }): Rule[] {
  return [...rules, rule];
}

export function removeRule(rules: Rule[], index: number): Rule[] {
  return rules.filter((_, i) => i !== index);
}

export function updateRule(rules: Rule[], index: number, change: Partial<Rule>): Rule[] {
  return rules.map((rule, i) => (i === index ? { ...rule, ...change } : rule));
}

/** Moves a rule up (-1) or down (+1); at either end it stays where it is. */
export function moveRule(rules: Rule[], index: number, delta: -1 | 1): Rule[] {
  const to = index + delta;
  if (index < 0 || index >= rules.length || to < 0 || to >= rules.length) return rules;
  const moved = [...rules];
  const [rule] = moved.splice(index, 1);
  if (rule) moved.splice(to, 0, rule);
  return moved;
}

const EMPTY_METHOD: Method = { enabled: false, rules: [] };

/**
 * A module of the operator's own against any QuickBooks entity, reading and writing the
 * records of one platform module, every method off until given rules.
 */
export function addModule(spec: Spec, name: string, entity: string, platformModule: Module | ''): Spec {
  const trimmed = name.trim();
  if (!trimmed) throw new Error('A module needs a name.');
  if (!entity.trim()) throw new Error(`Module ${trimmed}: name the QuickBooks entity it writes (e.g. Estimate).`);
  if (!platformModule) throw new Error(`Module ${trimmed}: pick the platform records it syncs (e.g. Orders).`);
  if (findModule(spec, trimmed)) throw new Error(`The spec already has a module named ${trimmed}.`);
  const module: ModuleSpec = {
    name: trimmed,
    entity: entity.trim(),
    // The built-in modules are named after their platform module and leave this empty.
    platform_module: platformModule === trimmed ? null : platformModule,
    depends_on: [],
    methods: {
      push_create: { ...EMPTY_METHOD },
      push_update: { ...EMPTY_METHOD },
      push_delete: { enabled: false, action: 'deactivate' },
      pull_create: { ...EMPTY_METHOD },
      pull_update: { ...EMPTY_METHOD },
    },
    pull_deletes: false,
    pull_when: null,
    match: [],
  };
  return { ...spec, modules: [...spec.modules, module] };
}

/** Switches a method on (so it runs) or off: a new module's methods start off, so nothing half-mapped runs. */
export function withMethodEnabled(spec: Spec, module: string, method: MethodName, enabled: boolean): Spec {
  return {
    ...spec,
    modules: spec.modules.map((m) =>
      m.name === module ? { ...m, methods: { ...m.methods, [method]: { ...m.methods[method], enabled } } } : m,
    ),
  };
}
