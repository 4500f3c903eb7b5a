import type { Diagnostic } from '../../errors.js';
import { diagnosticAt, type LoadedSpec } from '../../spec/load.js';
import { unitDiagnostics } from './verify.js';
import { hasInstall, parseInstall, expandSpecifiers } from './unitfile.js';
import { isTemplate, OWN_UNITS } from './paths.js';
import type { ValidateOptions } from '../../spec/types.js';

/**
 * `units:` from the spec alone: names, contradicting settings, Exec*= and secrets in the files,
 * `systemd-analyze verify` (src/resources/units/verify.ts); then what enabling needs from the
 * content the spec gives: an [Install] section, and aliases that are not another unit of the spec
 * (both would be /etc/systemd/system/<alias>: one file written twice).
 */
export function validate(spec: LoadedSpec, options: ValidateOptions = {}): Diagnostic[] {
  const out = unitDiagnostics(spec);
  const units = spec.value.units ?? [];
  units.forEach((u, i) => {
    if (OWN_UNITS.includes(u.name) && !options.ownUnits) {
      out.push(diagnosticAt(spec, ['units', i, 'name'], `units[${u.name}]: reconcile's own pull unit is installed on the host by \`reconcile pull REPO --install-timer\`, never by a spec: the repository must not change how the host pulls it`));
    }
  });
  const index = new Map(units.map((u, i) => [u.name, i] as const));
  units.forEach((u, i) => {
    if (u.content === undefined || u.state === 'absent') return;
    const install = parseInstall(u.content);
    if (u.enabled === true && !hasInstall(install)) {
      out.push(diagnosticAt(spec, ['units', i, 'enabled'], `units[${u.name}]: enabled: true, but its content has no [Install] section (a static unit cannot be enabled; add [Install] with WantedBy=, or drop enabled)`));
    } else if (u.enabled === true && isTemplate(u.name) && !install.defaultInstance) {
      out.push(diagnosticAt(spec, ['units', i, 'enabled'], `units[${u.name}]: a template is enabled through DefaultInstance=, which its content does not set; name an instance instead`));
    }
    if (u.enabled !== true) return;
    const instance = isTemplate(u.name) && install.defaultInstance ? u.name.replace(/@\./, `@${install.defaultInstance}.`) : u.name;
    for (const a of install.alias) {
      const alias = expandSpecifiers(a, instance);
      if (OWN_UNITS.includes(alias) && !options.ownUnits) {
        // The link would stand where reconcile's own unit is, replacing it: the same rule as naming it.
        out.push(diagnosticAt(spec, ['units', i, 'content'], `units[${u.name}]: Alias=${alias} would replace reconcile's own pull unit, which only \`reconcile pull REPO --install-timer\` manages`));
        continue;
      }
      const other = index.get(alias);
      if (alias === u.name || other === undefined || other === i) continue;
      const line = diagnosticAt(spec, ['units', other, 'name'], '').line;
      out.push(diagnosticAt(spec, ['units', i, 'content'], `units[${u.name}]: Alias=${alias} makes /etc/systemd/system/${alias} a link to this unit, but ${alias} is a unit of its own in the spec (line ${line}): one file cannot be both`));
    }
  });
  return out;
}
