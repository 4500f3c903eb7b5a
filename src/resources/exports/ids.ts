/**
 * Ids of the exports kind's shared steps, for other kinds to order against (a leaf module: other
 * kinds may import it, it imports nothing).
 */
export const EXPORTS_FILE = '/etc/exports';
/** The one write of /etc/exports. */
export const EXPORTS_WRITE_ID = `file:${EXPORTS_FILE}`;
/** The one `exportfs -ra` after it. */
export const EXPORTFS_ID = 'exec:exportfs -ra';

/** An export's path as the planner addresses it: `/srv/x/` and `/srv/x` are one export. */
export const exportPath = (path: string) => (path.length > 1 ? path.replace(/\/+$/, '') : path);
