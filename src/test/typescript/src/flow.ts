// The whole flow through a client generated from docs/openapi.yaml: types by openapi-typescript
// (src/generated/api.d.ts), calls by openapi-fetch. Run by GeneratedTypeScriptClientTest:
//   node dist/flow.js <baseUrl> <token> <table> <file.csv> <large.csv> <bad.csv> <export.csv>
// It imports <file.csv> into <table> (the test compares it with psql \copy of the same file),
// pauses, resumes and terminates an import of <large.csv>, exports <table> and saves the download
// to <export.csv> (compared with psql \copy ... TO), reads the rejects of <bad.csv> and checks a
// few errors as typed problems. Any failure throws: a non-zero exit.
import createClient from "openapi-fetch";
import { readFile, writeFile } from "node:fs/promises";
import type { components, paths } from "./generated/api.js";

type Task = components["schemas"]["Task"];
type TaskState = Task["state"];
type Problem = components["schemas"]["Problem"];

function args(): [string, string, string, string, string, string, string] {
  const [baseUrl, token, table, file, large, bad, exported] = process.argv.slice(2);
  if (!baseUrl || !token || !table || !file || !large || !bad || !exported) {
    throw new Error("usage: flow.js <baseUrl> <token> <table> <file> <large> <bad> <export>");
  }
  return [baseUrl, token, table, file, large, bad, exported];
}
const [baseUrl, token, table, file, large, bad, exported] = args();

const client = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${token}` },
});

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`check failed: ${what}`);
  }
}

/** One line about a task, touching every field as typed code would (a null where the type says
 * there is none throws here). */
function describe(t: Task): string {
  const parts = [
    `${t.kind} ${t.id.slice(0, 8)} ${t.state}`,
    t.requestedState === null ? "" : `(${t.requestedState.toLowerCase()} asked)`,
    `${t.table}`,
    `${t.rowsDone.toLocaleString("en")} rows`,
    t.rowsTotal === null ? "" : `of ${t.rowsTotal.toLocaleString("en")}`,
    t.bytesTotal === null ? "" : `${t.bytesDone}/${t.bytesTotal} bytes`,
    `${t.percent.toFixed(1)}%`,
    `${t.rowsPerSecond.toFixed(0)} rows/s`,
    t.etaSeconds === null ? "" : `eta ${t.etaSeconds.toFixed(0)} s`,
    t.rowsSkipped > 0 ? `${t.rowsSkipped} skipped` : "",
    t.error === null ? "" : `error: ${t.error.trim()}`,
    `actions [${t.actions.join(",")}]`,
    t.createdBy === null ? "" : `by ${t.createdBy.toLowerCase()}`,
    t.lastCommand === null ? "" : `last ${t.lastCommand.name} by ${t.lastCommand.by}`,
    t.upload === null ? "" : `upload ${t.upload.bytesReceived} bytes`,
    t.callback === null ? "" : `callback ${t.callback.url}`,
    `created ${new Date(t.createdAt).toISOString()}`,
    `updated ${new Date(t.updatedAt).toISOString()}`,
    t.finishedAt === null ? "" : `finished ${new Date(t.finishedAt).toISOString()}`,
  ];
  return parts.filter((p) => p !== "").join(" ");
}

/**
 * An export request with only its table: the document gives the other fields no schema default
 * (openapi-typescript would make such a field required), so they can be left out.
 */
function exportOf(name: string): components["schemas"]["ExportRequest"] {
  return { table: name };
}

/** A body sent as it is: CSV, not JSON. */
const asIs = (body: unknown) => body as string;

async function startImport(name: string, csv: string, onError?: "fail" | "skip"): Promise<Task> {
  const { data, error, response } = await client.POST("/imports", {
    params: { query: { table: name, ...(onError ? { onError } : {}) } },
    body: csv,
    bodySerializer: asIs,
    headers: { "Content-Type": "text/csv" },
  });
  check(response.status === 202, `import answered ${response.status}: ${JSON.stringify(error)}`);
  check(data !== undefined, "an accepted import answers the task");
  const location = new URL(response.headers.get("Location") ?? "", baseUrl).pathname;
  check(location === `/tasks/${data.id}`, `Location names the task: ${location}`);
  console.log("started", describe(data));
  return data;
}

async function getTask(id: string): Promise<Task> {
  const { data, error } = await client.GET("/tasks/{id}", { params: { path: { id } } });
  if (data === undefined) {
    throw new Error(`GET /tasks/${id}: ${JSON.stringify(error)}`);
  }
  return data;
}

/** Polls the task until it is in one of `states`; prints each change. */
async function watch(id: string, ...states: TaskState[]): Promise<Task> {
  const deadline = Date.now() + 60_000;
  let last = "";
  for (;;) {
    const t = await getTask(id);
    const line = describe(t);
    if (line !== last) {
      console.log("  ", line);
      last = line;
    }
    if (states.includes(t.state)) {
      return t;
    }
    check(Date.now() < deadline, `task ${id} not ${states.join("/")} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function command(id: string, name: "pause" | "resume" | "terminate"): Promise<Task> {
  const path = `/tasks/{id}/${name}` as const;
  const { data, error, response } = await client.POST(path, { params: { path: { id } } });
  check(response.status === 202, `${name} answered ${response.status}: ${JSON.stringify(error)}`);
  check(data !== undefined, `${name} answers the task`);
  console.log(name, describe(data));
  return data;
}

/** An error answer: problem+json, typed as the document's Problem. */
function problem(error: Problem | undefined, response: Response, status: number): Problem {
  check(response.status === status, `expected ${status}, got ${response.status}`);
  check(
    (response.headers.get("Content-Type") ?? "").startsWith("application/problem+json"),
    "errors are problem+json",
  );
  check(error !== undefined, "a problem body");
  check(error.status === status, `the problem's status is ${status}`);
  console.log(`problem ${status}:`, error.title, "-", error.detail);
  return error;
}

async function main(): Promise<void> {
  // Import a file, watch it, find it in the list.
  const csv = await readFile(file, "utf8");
  const imported = await startImport(table, csv);
  const done = await watch(imported.id, "COMPLETED", "FAILED");
  check(done.state === "COMPLETED", `the import completed: ${done.error}`);
  check(done.finishedAt !== null, "a completed task has finished");
  check(done.percent === 100, "100% done");
  const list = await client.GET("/tasks", { params: { query: { kind: "IMPORT", limit: 50 } } });
  check(list.data !== undefined, "the list");
  const listed = list.data.find((t) => t.id === imported.id);
  check(listed !== undefined && listed.state === "COMPLETED", "the import is listed, COMPLETED");
  check(list.data.every((t) => t.kind === "IMPORT"), "only imports are listed");

  // Pause, resume and terminate an import large enough to be caught running.
  const running = await startImport(`${table}_large`, await readFile(large, "utf8"));
  await command(running.id, "pause");
  const paused = await watch(running.id, "PAUSED", "COMPLETED");
  check(paused.state === "PAUSED", "paused before it completed");
  check(paused.actions.includes("resume"), "a paused task can be resumed");
  await command(running.id, "resume");
  await command(running.id, "terminate");
  const terminated = await watch(running.id, "TERMINATED", "COMPLETED");
  check(terminated.state === "TERMINATED", "terminated before it completed");

  // Export the imported table; download it whole, then a range of it, then conditionally.
  const exp = await client.POST("/exports", { body: exportOf(table) });
  check(exp.response.status === 202 && exp.data !== undefined, `export: ${exp.response.status}`);
  const exportDone = await watch(exp.data.id, "COMPLETED", "FAILED");
  check(exportDone.state === "COMPLETED", `the export completed: ${exportDone.error}`);
  check(exportDone.rowsDone === done.rowsDone, "as many rows out as in");
  const whole = await client.GET("/tasks/{id}/file", {
    params: { path: { id: exp.data.id } },
    parseAs: "arrayBuffer",
  });
  check(whole.response.status === 200 && whole.data !== undefined, "the download");
  const bytes = Buffer.from(whole.data);
  await writeFile(exported, bytes);
  const etag = whole.response.headers.get("ETag");
  check(etag !== null, "the download has an ETag");
  const range = await client.GET("/tasks/{id}/file", {
    params: { path: { id: exp.data.id }, header: { Range: "bytes=100-199" } },
    parseAs: "arrayBuffer",
  });
  check(range.response.status === 206 && range.data !== undefined, `Range: ${range.response.status}`);
  check(
    Buffer.from(range.data).equals(bytes.subarray(100, 200)),
    "the range is those bytes of the file",
  );
  check(
    range.response.headers.get("Content-Range") === `bytes 100-199/${bytes.length}`,
    "Content-Range",
  );
  const again = await client.GET("/tasks/{id}/file", {
    params: { path: { id: exp.data.id }, header: { "If-None-Match": etag } },
    parseAs: "arrayBuffer",
  });
  check(again.response.status === 304, `If-None-Match: ${again.response.status}`);
  console.log(`downloaded ${bytes.length} bytes; a range of 100; 304 for the same ETag`);

  // The rejects of an import that sets bad rows aside.
  const skipping = await startImport(`${table}_bad`, await readFile(bad, "utf8"), "skip");
  const skipped = await watch(skipping.id, "COMPLETED", "FAILED");
  check(skipped.state === "COMPLETED" && skipped.rowsSkipped === 1, "one row set aside");
  const rejects = await client.GET("/tasks/{id}/rejects", {
    params: { path: { id: skipping.id } },
    parseAs: "text",
  });
  check(rejects.response.status === 200 && rejects.data !== undefined, "the rejects");
  const lines = rejects.data.trim().split("\n");
  check(lines[0] === "line,reason,record" && lines.length === 2, `rejects: ${rejects.data}`);
  check(lines[1]?.startsWith("3,") === true, `the bad row is line 3: ${lines[1]}`);
  console.log("rejects:", lines[1]);

  // Errors as typed problems.
  const conflict = await client.POST("/tasks/{id}/pause", {
    params: { path: { id: imported.id } },
  });
  const refused = problem(conflict.error, conflict.response, 409);
  check(refused.state === "COMPLETED", "the problem names the task's state");
  const unknown = await client.GET("/tasks/{id}", {
    params: { path: { id: "0b6f2c9e-3f0a-4a57-9d1e-2f7c5f1f9a10" } },
  });
  problem(unknown.error, unknown.response, 404);
  const badList = await client.GET("/tasks", { params: { query: { limit: 0 } } });
  problem(badList.error, badList.response, 400);
  console.log("flow ok");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
