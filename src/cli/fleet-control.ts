/**
 * `reconcile fleet pause|resume|release GROUP|HOST … --reason TEXT`: human control of rollouts
 * (DESIGN §8.4 rules 5, 12). Each control is one script on the group's keys that also writes the
 * event (type, group, host, who, reason, at) to the fleet's stream, so a control is never
 * applied unrecorded.
 */
import { UserError } from '../errors.js';
import { GroupSlots } from '../locks/slots.js';
import { parse } from './args.js';
import { onlyFlags, openFleet, type OpenFleet } from './fleet.js';
import { openFleetRedis } from '../fleet/redis.js';

type Op = 'pause' | 'resume' | 'release';

const WHAT: Record<Op, { group: string; host: string }> = {
  pause: { group: 'grants no rollout slot until fleet resume', host: 'gets no rollout slot until fleet resume HOST' },
  resume: { group: 'resumed: pause and halt lifted, failed and abandoned slots forgotten', host: 'resumed: may take rollout slots again' },
  release: { group: 'every slot released', host: 'its slots released' },
};

const help = (op: Op) => `usage: reconcile fleet ${op} GROUP|HOST… --reason TEXT [--fleet DIR]

A name is looked up among the fleet's groups and hosts; write group:NAME or host:NAME when it is both.
  --reason TEXT  why (required): recorded on the fleet's event stream with who and when
  --fleet DIR    the fleet around DIR (default: the current directory)
exit 0 done · 1 error`;

interface Target {
  kind: 'group' | 'host';
  name: string;
  groups: string[];
}

export function controlCommand(op: Op): (argv: string[]) => Promise<number> {
  return async (argv) => {
    const { values, positionals } = parse('fleet', argv);
    onlyFlags(op, values, ['reason', 'fleet']);
    if (values.help) {
      process.stdout.write(`${help(op)}\n`);
      return 0;
    }
    if (!positionals.length) throw new UserError(`reconcile fleet ${op}: name a GROUP or HOST (see reconcile fleet ${op} --help)`);
    const reason = values.reason?.trim();
    if (!reason) throw new UserError(`reconcile fleet ${op}: --reason TEXT is required (it is recorded)`);
    const open = openFleet(values.fleet);
    const targets = positionals.map((p) => resolveTarget(open, p, op));
    const conn = await openFleetRedis(open.fleet.redis);
    try {
      for (const t of targets) {
        let changed = 0;
        for (const g of t.groups) {
          const slots = new GroupSlots(conn.client, open.name, g);
          changed += await slots.control(op, t.kind === 'host' ? t.name : undefined, reason).catch((e: unknown) => {
            throw conn.fail(e, slots.keys.base);
          });
        }
        const what = WHAT[op][t.kind];
        process.stdout.write(`${t.kind} ${t.name}: ${what}${changed ? '' : ' (nothing was different)'}\n`);
      }
    } finally {
      await conn.close();
    }
    return 0;
  };
}

function resolveTarget({ fleet }: OpenFleet, arg: string, op: Op): Target {
  const m = /^(group|host):(.*)$/.exec(arg);
  const name = m ? m[2]! : arg;
  const group = fleet.groups.has(name) || [...fleet.hosts.values()].some((h) => h.groups.includes(name));
  const host = fleet.hosts.get(name);
  if (m?.[1] === 'group' || (!m && group && !host)) {
    if (!group) throw new UserError(`reconcile fleet ${op}: no group ${JSON.stringify(name)} in the fleet`);
    return { kind: 'group', name, groups: [name] };
  }
  if (m?.[1] === 'host' || (!m && host && !group)) {
    if (!host) throw new UserError(`reconcile fleet ${op}: no host ${JSON.stringify(name)} in the fleet`);
    if (!host.groups.length) throw new UserError(`reconcile fleet ${op}: host ${name} is in no group, so it takes no rollout slot`);
    return { kind: 'host', name, groups: [...host.groups].sort() };
  }
  if (group && host) throw new UserError(`reconcile fleet ${op}: ${JSON.stringify(name)} is both a group and a host: write group:${name} or host:${name}`);
  throw new UserError(`reconcile fleet ${op}: ${JSON.stringify(name)} is neither a group nor a host of the fleet`);
}
