// The author API, with its JSON errors turned into readable messages.

export class ApiError extends Error {
  /** `detail`: the whole `error` object, with any member beyond code and message (`field`, `fields`, `changes`). */
  constructor(public status: number, public code: string, message: string, public detail: Record<string, unknown> = {}) {
    super(message);
  }
}

/** The shape of every error Folio answers: `{"error": {"code", "message", ...}}`. */
interface ErrorBody { error?: { code?: unknown; message?: unknown; [more: string]: unknown } }

export async function api<T = unknown>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });
  } catch {
    throw new ApiError(0, 'offline', 'Folio cannot be reached: check your connection.');
  }
  const text = await res.text();
  let body: unknown = {};
  try {
    if (text) body = JSON.parse(text);
  } catch {
    // Not Folio's JSON (a proxy's error page, a cut connection): say what failed, not the parser.
    throw new ApiError(res.status, 'bad_response', `Request failed (${res.status}): the answer was not JSON.`);
  }
  if (!res.ok) {
    const e = (body as ErrorBody | null)?.error;
    throw new ApiError(res.status,
      typeof e?.code === 'string' ? e.code : 'error',
      typeof e?.message === 'string' ? e.message : `Request failed (${res.status})`,
      e && typeof e === 'object' ? e : {});
  }
  return body as T;
}

export interface DocSummary {
  id: string; title: string; status: 'draft' | 'published' | 'scheduled' | 'failed'; slug: string | null;
  version: number | null; updated_at: string; published_at: string | null; next_publish_at: string | null;
  publishing: Pending | null;
}
/** A publish or unpublish on its way (retried automatically) or failed (waits for the author). */
export interface Pending {
  action: 'publish' | 'unpublish'; version: number; state: 'retrying' | 'failed'; code: string;
  message: string; attempts: number; next_attempt_at: string | null; scheduled_entry: number | null;
}
export interface Published { version: number; slug: string; status: string; published_at: string; created: boolean }
export interface Entry { id: number; action: 'publish' | 'unpublish'; at: string }
export interface Version { version: number; slug: string; title: string; word_count: number; published_at: string }

/** The field types of a collection (the README's content-type contract). */
export type FieldType = 'text' | 'richtext' | 'number' | 'boolean' | 'date' | 'datetime' | 'select' | 'tags' | 'reference' | 'image';
export const FIELD_TYPES: readonly FieldType[] = ['text', 'richtext', 'number', 'boolean', 'date', 'datetime', 'select', 'tags', 'reference', 'image'];
/** One field of a definition; the rules a type does not have are absent. */
export interface FieldDef {
  name: string; type: FieldType; label?: string; required?: boolean;
  max_length?: number; min?: number; max?: number; integer?: boolean; options?: string[]; collection?: string;
}
export interface CollectionDef {
  name: string; label: string; fields: FieldDef[]; version: number; created_at: string | null; built_in: boolean;
}
/** What publishing would refuse, per field. */
export interface Problem { name: string; message: string }
/** `GET /api/docs/{id}`: the draft, typed by its collection. */
export interface Draft { id: string; collection: string; slug: string | null; fields: Record<string, unknown>; problems: Problem[] }
