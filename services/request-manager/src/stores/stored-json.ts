/** Reading back the JSON text the RM stored (archives, suspended chains). */
import { parseJsonText } from '@spincycle/protocol';

/** JSON text stored by us (plain JSON.parse unless it may hold integers too big for a double). */
export function parseStoredJson<T>(text: string): T {
  return parseJsonText(text) as T;
}
