import type { FileFacts } from '../../host/host.js';
import type { ProbeResult } from '../../host/probe.js';

// The spec's side of mounts is part of the spec's types; the kind reads it from there.
export type { MountCredentials, MountSpec, MountState } from '../../spec/types.js';

/** One line of /proc/self/mountinfo, mount point mapped to a host path. */
export interface LiveMount {
  id: number;
  parent: number;
  majmin: string;
  /** Path inside the filesystem that is mounted here (not `/` for bind mounts). */
  root: string;
  /** Host path (under --root: relative to the root, as the spec names it). */
  path: string;
  /** The machine's real path. */
  realPath: string;
  mountOptions: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Facts the source comparison needs, gathered in observe (and again at apply time). */
export interface SourceFacts {
  /** /dev/loopN -> host path of its backing file (real path when outside --root). */
  loopBacking: Record<string, string>;
  /** bind source host path -> where it lives: device and path inside that device's filesystem. */
  bindSources: Record<string, { majmin: string; root: string }>;
  /** `UUID=…`/`LABEL=…`/`PARTUUID=…` -> device, null when it did not resolve. */
  tags: Record<string, string | null>;
}

export type { FileFacts };

/** What observe gathers for the mounts kind; plain data (fixtures are this as JSON). */
export interface MountsObserved extends Partial<SourceFacts> {
  /** /etc/fstab bytes as text, null when missing. */
  fstab: string | null;
  /** Topmost live mount per host path, for the paths the spec or ownership names. */
  live: Record<string, LiveMount>;
  /** Staleness probe per host path of `live`; missing = not probed. */
  probes?: Record<string, ProbeResult>;
  /** Credentials files by host path. */
  credentials?: Record<string, FileFacts | null>;
  accounts?: { users: Record<string, number>; groups: Record<string, number> };
  /** A live host whose systemd must re-read fstab (systemd-fstab-generator) after it changes. */
  systemd?: boolean;
}

/** A mount as it should be, after names and secrets are resolved: what steps carry. */
export interface DesiredMount {
  path: string;
  source: string;
  type: string;
  /** Options for fstab and for `mount -o`, with uid/gid resolved and `credentials=` added. */
  options: string[];
}
