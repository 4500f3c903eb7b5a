import { describe, expect, it } from 'vitest';
import { orderSteps } from './order.js';
import type { Change, Step } from './types.js';

const step = (id: string, after?: string[]): Step => ({ id, op: 'exec', title: id, after, args: {} });
const change = (address: string, steps: Step[]): Change => ({ address, kind: 'k', action: 'update', risk: 'none', summary: '', diff: '', steps });

describe('orderSteps', () => {
  it('runs a shared step once, after everything it names, including prefixes', () => {
    const reload = step('exec:reload', ['file:*']);
    const order = orderSteps([
      change('a', [reload, step('exec:restart a', ['exec:reload'])]),
      change('b', [step('file:/etc/b'), reload]),
      change('c', [step('file:/etc/c')]),
    ]).map((s) => s.id);
    expect(order).toEqual(['file:/etc/b', 'file:/etc/c', 'exec:reload', 'exec:restart a']);
  });

  it('refuses two different steps under one id', () => {
    expect(() => orderSteps([change('a', [step('x', ['y'])]), change('b', [step('x')])])).toThrow(/two different steps share the id x/);
  });

  it('refuses a cycle', () => {
    expect(() => orderSteps([change('a', [step('x', ['y']), step('y', ['x'])])])).toThrow(/cycle/);
  });
});
