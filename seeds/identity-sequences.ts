import { sql } from 'drizzle-orm';
import type { Database } from '../src/db/client.ts';

/**
 * Who owns which ids: the development world below 1000, the evaluation world 1000–1999 (so external datasets can
 * name its records), and ordinary inserts from 2000, whichever worlds were seeded and in whatever order.
 */
export const lastReservedId = 1999;

type Executor = Pick<Database, 'execute'>;

/**
 * Explicit ids leave identity sequences behind: moves each table's `id` sequence to at least `floor` and past
 * its largest id, and never backwards, so an ordinary insert never takes an id a seed reserved.
 */
export async function moveIdentitySequencesPast(
  executor: Executor,
  tables: readonly string[],
  floor: number,
): Promise<void> {
  for (const table of tables) {
    await executor.execute(
      sql.raw(
        `select setval(pg_get_serial_sequence('${table}', 'id'), greatest((select max(id) from ${table}), ${floor}, (select last_value from pg_sequences where format('%I.%I', schemaname, sequencename) = pg_get_serial_sequence('${table}', 'id'))))`,
      ),
    );
  }
}
