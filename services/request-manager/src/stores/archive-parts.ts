/**
 * Archived texts in pieces. A `request_archives` column whose text would not
 * fit a statement next to the row's other columns (see `Db.statementBytes`)
 * is stored as '' there and as numbered pieces in `request_archive_parts`;
 * small texts stay in their column as before. Readers ask `readArchived`,
 * which joins the pieces in order (each piece is its own result row, so no
 * row sent back is bigger than a packet either).
 */
import type { Db } from '../db/db.js';
import { type Statement, splitText, valueBytes } from '../db/sql.js';

export type ArchivedField = 'create_request' | 'args' | 'job_chain';

export const PARTS_TABLE = 'request_archive_parts';
const PART_COLUMNS = ['request_id', 'field', 'part', 'text'] as const;
/** Room a statement keeps for its text and the other values of the row. */
const STATEMENT_ROOM = 4096;

/**
 * The stored value of `text` in its archive column ('' when it goes in
 * pieces), and the piece rows when it does. A text goes in pieces when it
 * could take more than a quarter of a statement, so an archive row of three
 * such columns (and the secret names) still fits one.
 */
export function splitArchived(
  db: Db,
  requestId: string,
  field: ArchivedField,
  text: string,
): { column: string; parts: unknown[][] } {
  const budget = db.statementBytes;
  if (valueBytes(text) <= budget / 4) return { column: text, parts: [] };
  // valueBytes counts up to 3 bytes per UTF-16 unit.
  const maxChars = Math.max(2, Math.floor((budget - STATEMENT_ROOM) / 3));
  const parts = splitText(text, maxChars).map((piece, i) => [requestId, field, i, piece]);
  return { column: '', parts };
}

/** INSERTs of piece rows, each under the statement size. */
export function partStatements(db: Db, parts: readonly unknown[][]): Statement[] {
  return parts.length === 0 ? [] : db.insertStatements(PARTS_TABLE, PART_COLUMNS, parts);
}

/** The text of an archive column as stored: the column itself, or its pieces joined when it is ''. */
export async function readArchived(
  db: Db,
  requestId: string,
  field: ArchivedField,
  column: string | null | undefined,
): Promise<string | undefined> {
  if (column === null || column === undefined) return undefined;
  if (column !== '') return column;
  const pieces: string[] = [];
  // One piece per query: a reply never holds more than one piece, whatever the packet size.
  for (let part = 0; ; part++) {
    const rows = await db.run((m) =>
      db.select<{ text: string }>(
        m,
        `SELECT \`text\` FROM \`${PARTS_TABLE}\` WHERE \`request_id\` = ? AND \`field\` = ? AND \`part\` = ?`,
        [requestId, field, part],
      ),
    );
    const piece = rows[0]?.text;
    if (piece === undefined) break;
    pieces.push(String(piece));
  }
  return pieces.join('');
}
