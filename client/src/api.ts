// The author API, typed by the OpenAPI document the server publishes: `api-schema.ts` is
// generated from it by openapi-typescript (`make api-types`; `make check` fails when the
// committed file drifts), and `client` is openapi-fetch over those types, so a path, a
// method, a parameter or an answer the server does not have is a type error here. `ok` turns
// Folio's JSON errors into readable messages.
import createClient from 'openapi-fetch';
import type { components, paths } from './api-schema';

export class ApiError extends Error {
  /** `detail`: the whole `error` object, with any member beyond code and message (`field`, `fields`, `changes`). */
  constructor(public status: number, public code: string, message: string, public detail: Record<string, unknown> = {}) {
    super(message);
  }
}

/** The shape of every error Folio answers: `{"error": {"code", "message", ...}}`. */
interface ErrorBody { error?: { code?: unknown; message?: unknown; [more: string]: unknown } }

/** The typed client of the author API (same origin: the session cookie goes along). */
export const client = createClient<paths>({ baseUrl: '' });

/** What an openapi-fetch call resolves to. */
interface Answer<D> { data?: D; error?: unknown; response: Response }

/** The answer of a typed call, or its error as an [`ApiError`]. */
export async function ok<D>(call: Promise<Answer<D>>): Promise<D> {
  let answer: Answer<D>;
  try {
    answer = await call;
  } catch (e) {
    // Not Folio's JSON (a proxy's error page, a cut connection): say what failed, not the parser.
    if (e instanceof SyntaxError) throw new ApiError(0, 'bad_response', 'Request failed: the answer was not JSON.');
    throw new ApiError(0, 'offline', 'Folio cannot be reached: check your connection.');
  }
  const { data, error, response } = answer;
  if (!response.ok) {
    const e = (error as ErrorBody | null | undefined)?.error;
    throw new ApiError(response.status,
      typeof e?.code === 'string' ? e.code : 'error',
      typeof e?.message === 'string' ? e.message : `Request failed (${response.status})`,
      e && typeof e === 'object' ? e : {});
  }
  return data as D;
}

/**
 * The answer of a typed call whose document schema is per collection (a draft: one of each
 * collection's draft schemas; a definition), read as the editor's own model of it.
 */
export function shaped<T>(call: Promise<Answer<unknown>>): Promise<T> {
  return ok(call) as Promise<T>;
}

type Schemas = components['schemas'];
export type DocSummary = Schemas['DocSummary'];
/** A publish or unpublish on its way (retried automatically) or failed (waits for the author). */
export type Pending = Schemas['Pending'];
export type Published = Schemas['Published'];
export type Entry = Schemas['ScheduleEntry'];
export type Version = Schemas['VersionSummary'];
export type MediaItem = Schemas['MediaItem'];
export type Session = Schemas['Session'];
export type Token = Schemas['Token'];

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
