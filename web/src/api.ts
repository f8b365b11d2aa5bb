// The typed API client: every path, parameter and body is checked against the service's OpenAPI
// spec (src/schema.d.ts, generated at build time), so the build fails when they disagree.
import createClient, { type MethodResponse } from "openapi-fetch";
import type { paths } from "./schema";


const KEY_STORAGE = "counterpart.key";

// The app reads JSON only: responses that also come as CSV are typed by their JSON schema.
export const client = createClient<paths, "application/json">({ baseUrl: window.location.origin });

client.use({
  onRequest({ request }) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) request.headers.set("Authorization", `Bearer ${key}`);
    return request;
  },
});

export function getKey(): string {
  return sessionStorage.getItem(KEY_STORAGE) ?? "";
}

export function setKey(key: string): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** An error the API answered (its `detail` in plain words) or a failed request. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly problems: string[],
  ) {
    super(detail);
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}

/** The data of a successful answer; an ApiError with the body's `detail` otherwise. */
export async function ok<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await request;
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "the service cannot be reached (network error)", []);
  }
  if (answer.error === undefined && answer.data !== undefined) return answer.data;
  const body: unknown = answer.error;
  let detail = `the service answered ${answer.response.status} ${answer.response.statusText}`;
  const problems: string[] = [];
  if (isRecord(body)) {
    if (typeof body["detail"] === "string") detail = body["detail"];
    const errors = body["errors"];
    if (Array.isArray(errors)) {
      for (const item of errors) {
        if (isRecord(item) && typeof item["error"] === "string") {
          const where = typeof item["field"] === "string" ? `${item["field"]}: ` : "";
          problems.push(where + item["error"]);
        }
      }
    }
  }
  throw new ApiError(answer.response.status, detail, problems);
}

/** `weights=agriculture:0.3,...` for the scoring GETs. */
export function weightsParam(weights: Record<string, number>): string | undefined {
  const parts = Object.entries(weights).map(([k, v]) => `${k}:${v}`);
  return parts.length ? parts.join(",") : undefined;
}

// Types of the app's requests and answers, named by the operations that carry them (not by
// schema names, which the spec may change): the build fails when an operation changes shape.
type C = typeof client;
type JsonOf<R> = R extends { content: { "application/json": infer J } } ? J : never;
type BodyOf<Op> = Op extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;

export type Taxonomy = MethodResponse<C, "get", "/taxonomy">;
export type Region = MethodResponse<C, "get", "/regions">["regions"][number];
export type LinkDetail = MethodResponse<C, "get", "/links/{northeast_id}/{east_id}">;
export type ScenarioBody = BodyOf<paths["/scenarios/evaluate"]["post"]>;
export type ScenarioResult = MethodResponse<C, "post", "/scenarios/evaluate">;
export type SavedScenario = MethodResponse<C, "get", "/scenarios/{scenario_id}">;
export type Diff = ScenarioResult["diff"];
export type WeightInterval = ScenarioResult["sensitivity"][number];
export type PairOut = Diff["entered"][number];
export type PartnerList = MethodResponse<C, "post", "/partners/search">;
