// Task State Manager: the browser page. Plain JavaScript, no framework, nothing fetched from
// elsewhere. Imports are uploaded as resumable uploads (tus 1.0, with XMLHttpRequest for upload
// progress) that continue after a lost connection or a reload; tasks are followed live through
// Server-Sent Events (/tasks/events), with polling of GET /tasks as a fallback.
'use strict';

(() => {
  const POLL_MS = 2000;
  const SSE_RETRY_MS = 30000;
  const SSE_MAX_ERRORS = 3;
  const FINAL = new Set(['COMPLETED', 'TERMINATED']);
  const STATE_LABEL = {
    PENDING: 'Pending',
    RUNNING: 'Running',
    PAUSED: 'Paused',
    COMPLETED: 'Completed',
    FAILED: 'Failed',
    TERMINATED: 'Terminated',
  };

  const $ = (selector, root = document) => root.querySelector(selector);
  const numberFormat = new Intl.NumberFormat(undefined);
  const percentFormat = new Intl.NumberFormat(undefined, {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });
  const timeFormat = new Intl.DateTimeFormat(undefined, {
    dateStyle: 'medium',
    timeStyle: 'medium',
  });

  /** id -> {data, el}: every task shown. */
  const tasks = new Map();

  // ---- Talking to the API -------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, state) {
      super(message);
      this.status = status;
      this.state = state || null;
    }
  }

  /**
   * A readable sentence out of an error answer: the problem's detail (or title), never raw JSON
   * or HTML.
   */
  function problemText(status, statusText, contentType, body) {
    if (status === 0) {
      return 'The service could not be reached. Check that it is running and try again.';
    }
    let text = null;
    if (body && /json/i.test(contentType || '')) {
      try {
        const problem = JSON.parse(body);
        if (problem && typeof problem === 'object') {
          text = [problem.detail, problem.title].find(
            (v) => typeof v === 'string' && v.trim() !== '',
          );
        }
      } catch (e) {
        text = null;
      }
    }
    if (!text) {
      const reason = statusText ? ` (${status} ${statusText})` : ` (status ${status})`;
      text = `The service refused the request${reason}.`;
    }
    return sentence(pageWords(text));
  }

  // The API's parameter words, as the page's choices name them.
  const PAGE_WORDS = [
    [/\buse mode=append\b/g, 'choose "Append to an existing table"'],
    [/\buse mode=create\b/g, 'choose "Create a new table"'],
    [/\bmode=append\b/g, '"Append to an existing table"'],
    [/\bmode=create\b/g, '"Create a new table"'],
    [/\bonError=skip\b/g, '"Skip them and keep going" (More options, Bad rows)'],
    [/\bonError=fail\b/g, '"Fail the import at the first bad row"'],
  ];

  function pageWords(text) {
    return PAGE_WORDS.reduce((t, [words, page]) => t.replace(words, page), text);
  }

  function sentence(text) {
    const t = String(text).trim();
    const first = t.charAt(0).toUpperCase() + t.slice(1);
    return /[.!?]$/.test(first) ? first : `${first}.`;
  }

  function problemState(contentType, body) {
    if (!body || !/json/i.test(contentType || '')) {
      return null;
    }
    try {
      const problem = JSON.parse(body);
      return problem && typeof problem.state === 'string' ? problem.state : null;
    } catch (e) {
      return null;
    }
  }

  /** Not signed in (or the session ended): say how to sign in, once. */
  function signedOut() {
    if (document.body.dataset.signedIn === 'false') {
      return;
    }
    document.body.dataset.signedIn = 'false';
    const live = document.getElementById('live');
    live.dataset.mode = 'signed-out';
    live.textContent =
      'Not signed in. Open the sign-in link the service printed when it started, ' +
      'or sign in with your organisation at /signin/oidc.';
  }

  /** Calls the API; json is sent as JSON, or raw ({type, body}) as it is. */
  async function api(method, url, json, raw) {
    const init = { method, headers: { Accept: 'application/json' }, cache: 'no-store' };
    if (json !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    }
    if (raw) {
      init.headers['Content-Type'] = raw.type;
      init.body = raw.body;
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      throw new ApiError(0, problemText(0));
    }
    const text = await response.text();
    const type = response.headers.get('Content-Type');
    if (response.status === 401) {
      signedOut();
    }
    if (!response.ok) {
      throw new ApiError(
        response.status,
        problemText(response.status, response.statusText, type, text),
        problemState(type, text),
      );
    }
    if (!text) {
      return null;
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ApiError(response.status, 'The service sent an answer this page cannot read.');
    }
  }

  // ---- Messages -----------------------------------------------------------------------------

  /** Puts a message in a live region; kind is info, ok or error. */
  function say(region, text, kind = 'info') {
    region.dataset.kind = kind;
    region.textContent = kind === 'error' && text ? `Error: ${text}` : text || '';
  }

  function sayWithLink(region, text, href, linkText, kind = 'ok') {
    region.dataset.kind = kind;
    region.textContent = `${text} `;
    const a = document.createElement('a');
    a.href = href;
    a.textContent = linkText;
    region.append(a);
  }

  /** State changes, read out by screen readers (progress ticks are not). */
  function announce(text) {
    const region = $('#announcer');
    region.textContent = '';
    // A fresh text node in a later task, so the same words twice are read twice.
    setTimeout(() => {
      region.textContent = text;
    }, 50);
  }

  // ---- Formatting ---------------------------------------------------------------------------

  function count(n) {
    return numberFormat.format(Number(n) || 0);
  }

  function bytes(n) {
    const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
    let value = Number(n) || 0;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    const digits = unit === 0 || value >= 100 ? 0 : 1;
    return `${value.toFixed(digits)} ${units[unit]}`;
  }

  function duration(seconds) {
    let s = Math.max(0, Math.round(Number(seconds) || 0));
    if (s < 60) {
      return `${s} s`;
    }
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    return h > 0 ? `${h} h ${m} min` : `${m} min ${s} s`;
  }

  function when(iso) {
    const t = Date.parse(iso);
    return Number.isNaN(t) ? '' : timeFormat.format(new Date(t));
  }

  /** Microseconds since the epoch of an ISO-8601 timestamp, for ordering (keeps microseconds). */
  function micros(iso) {
    if (!iso) {
      return 0;
    }
    const fraction = /\.(\d+)/.exec(iso);
    const base = Date.parse(iso.replace(/\.\d+/, ''));
    const frac = fraction ? Number(`${fraction[1]}000000`.slice(0, 6)) : 0;
    return Number.isNaN(base) ? 0 : base * 1000 + frac;
  }

  function kindWord(task) {
    return task.kind === 'EXPORT' ? 'export' : 'import';
  }

  /** "import into public.sales" or "export of public.sales". */
  function taskName(task) {
    return task.kind === 'EXPORT' ? `export of ${task.table}` : `import into ${task.table}`;
  }

  function capital(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // ---- The task list ------------------------------------------------------------------------

  // The service says which commands a task accepts now (t.actions): the page does not
  // re-derive the state machine.
  function can(t, action) {
    return Array.isArray(t.actions) && t.actions.includes(action);
  }

  /** Whether {@code incoming} is older than what is shown (events can cross a list answer). */
  function stale(shown, incoming) {
    if (FINAL.has(shown.state) && shown.state !== incoming.state) {
      return true;
    }
    return micros(incoming.updatedAt) < micros(shown.updatedAt);
  }

  function upsert(task, quiet = false) {
    if (!task || typeof task !== 'object' || !task.id) {
      return;
    }
    let entry = tasks.get(task.id);
    if (entry) {
      if (stale(entry.data, task)) {
        return;
      }
      const before = entry.data;
      entry.data = task;
      render(entry);
      if (before.state !== task.state) {
        stateChanged(before, task, quiet);
        applyView();
      }
      return;
    }
    entry = { data: task, el: createRow(task) };
    tasks.set(task.id, entry);
    place(entry);
    render(entry);
    $('#tasks-empty').hidden = true;
    applyView();
    if (task.id === wantInView) {
      inView(task.id);
    }
  }

  /** A task started from this page; its card is scrolled into view once it is shown. */
  let wantInView = null;

  /** Scrolls a task's card into view (so Pause is at hand), now or when it first shows. */
  function inView(id) {
    const entry = tasks.get(id);
    wantInView = entry ? null : id;
    if (entry) {
      if (!matches(entry.data)) {
        $('#filter-state').value = '';
        $('#filter-kind').value = '';
        $('#filter-text').value = '';
      }
      entry.el.hidden = false;
      bringIntoView(entry);
    }
  }

  /**
   * Scrolls a card into view once the list is laid out as it will be shown: after the view is
   * applied (which hides and shows cards and rewrites the count above them) and after whatever the
   * current handler still writes above the list, so the card does not move out again.
   */
  function bringIntoView(entry) {
    applyView(() => entry.el.scrollIntoView({ block: 'nearest' }));
  }

  function stateChanged(before, task, quiet) {
    if (!quiet) {
      announce(`${capital(taskName(task))} is now ${STATE_LABEL[task.state] || task.state}.`);
    }
    if (task.state === 'COMPLETED' && task.kind === 'IMPORT') {
      // the new table can be exported now
      loadTables();
    }
    exportReady(task);
    uploadTaskEnded(task);
    importEnded(task);
    if (task.state === 'FAILED' || task.state === 'TERMINATED') {
      flash($('.error', tasks.get(task.id).el));
    }
  }

  /** Draws the eye to a part of a card that just changed (a reason that came again). */
  function flash(el) {
    el.classList.remove('flash');
    void el.offsetWidth; // restart the animation
    el.classList.add('flash');
    el.dataset.flashes = String(Number(el.dataset.flashes || 0) + 1);
  }

  /**
   * The upload's import ended without completing: "the import started" is no longer true, so the
   * message under the form says how it ended instead.
   */
  function importEnded(task) {
    const message = $('#import-message');
    if (task.id !== uploadTaskId || !(task.state === 'FAILED' || task.state === 'TERMINATED')) {
      return;
    }
    if (message.dataset.kind === 'error' || message.dataset.ended === task.id) {
      return; // the upload's own error, or its cancellation, says more
    }
    if (upload && upload.taskId === task.id && upload.cancelled) {
      return; // cancelling: its own message comes
    }
    const how = task.state === 'FAILED' ? 'failed' : 'was terminated';
    say(message, `The import into ${task.table} ${how}: ${endReason(task)}`, 'error');
  }

  /** Why a task failed or was terminated, in a sentence. */
  function endReason(task) {
    if (task.error) {
      return sentence(task.error);
    }
    const c = task.lastCommand;
    if (task.state === 'TERMINATED' && c && c.name === 'terminate') {
      return `Terminated by ${c.by} on ${when(c.at)}.`;
    }
    return task.state === 'TERMINATED' ? 'Terminated.' : 'No reason was given.';
  }

  /** The name an export's file is saved under: a gzip export's is a .csv.gz file. */
  function exportFileName(task) {
    const gzip = task.options && task.options.compression === 'gzip';
    // as the service names it (Content-Disposition): the table without its schema
    const bare = task.table.slice(task.table.indexOf('.') + 1);
    return `${bare}.csv${gzip ? '.gz' : ''}`;
  }

  /** Under the export form, a link to the file of an export started from this page. */
  function exportReady(task) {
    if (task.state === 'COMPLETED' && task.kind === 'EXPORT' && pageExports.has(task.id)) {
      pageExports.delete(task.id);
      sayWithLink(
        $('#export-message'),
        `The export of ${task.table} is ready:`,
        `/tasks/${encodeURIComponent(task.id)}/file`,
        `download ${exportFileName(task)}`,
      );
      // the message may have pushed the card down: keep it where it was brought
      const entry = tasks.get(task.id);
      if (entry) {
        bringIntoView(entry);
      }
    }
  }

  /** Newest first, by createdAt. */
  function place(entry) {
    const list = $('#tasks');
    const created = micros(entry.data.createdAt);
    for (const row of list.children) {
      const other = tasks.get(row.dataset.taskId);
      if (other && micros(other.data.createdAt) < created) {
        list.insertBefore(entry.el, row);
        return;
      }
    }
    list.append(entry.el);
  }

  function createRow(task) {
    const el = $('#task-template').content.firstElementChild.cloneNode(true);
    el.dataset.taskId = task.id;
    el.dataset.kind = task.kind;
    el.dataset.table = task.table;
    el.id = `task-${task.id}`;
    el.tabIndex = -1;
    $('.pause', el).addEventListener('click', (e) => command(task.id, 'pause', e.currentTarget));
    $('.resume', el).addEventListener('click', (e) => command(task.id, 'resume', e.currentTarget));
    $('.retry-skip', el).addEventListener('click', (e) =>
      command(task.id, 'resume?onError=skip', e.currentTarget),
    );
    $('.terminate', el).addEventListener('click', (e) => {
      const t = tasks.get(task.id).data;
      const question =
        `Terminate the ${taskName(t)}?\n\n` +
        (t.kind === 'IMPORT'
          ? 'Rows loaded so far are removed and the table is left as it was before.'
          : 'The file written so far is removed.') +
        ' A terminated task cannot be resumed.';
      if (window.confirm(question)) {
        command(task.id, 'terminate', e.currentTarget);
      }
    });
    return el;
  }

  function render(entry) {
    const t = entry.data;
    const el = entry.el;
    const name = taskName(t);
    const percent = Math.max(0, Math.min(100, Number(t.percent) || 0));
    el.dataset.state = t.state;
    el.dataset.requestedState = t.requestedState || '';
    el.dataset.percent = String(percent);
    el.dataset.rowsDone = String(t.rowsDone || 0);

    $('.kind', el).textContent = capital(kindWord(t));
    $('.table', el).textContent = t.table;
    const state = $('.state', el);
    state.textContent = STATE_LABEL[t.state] || t.state;
    state.dataset.state = t.state;

    const bar = $('.bar', el);
    bar.value = percent;
    bar.textContent = `${percentFormat.format(percent)} %`;
    bar.setAttribute('aria-label', `Progress of ${name}`);
    renderUpload(el, t, name);

    $('.percent', el).textContent = `${percentFormat.format(percent)} %`;
    let rows = count(t.rowsDone);
    if (t.kind === 'EXPORT' && t.rowsTotal != null) {
      rows += ` of about ${count(t.rowsTotal)}`;
    }
    if (t.rowsSkipped > 0) {
      rows += ` (${count(t.rowsSkipped)} skipped)`;
    }
    $('.rows', el).textContent = rows;
    // While it runs, the rate of the current run; once completed, rows over the whole time taken
    // (a last short run after a resume would say far more than the task did).
    let speed = t.rowsPerSecond > 0 ? `${count(Math.round(t.rowsPerSecond))} rows/s` : '–';
    const took = (Date.parse(t.finishedAt) - Date.parse(t.createdAt)) / 1000;
    if (t.state === 'COMPLETED') {
      speed = took > 0 ? `${count(Math.round((t.rowsDone || 0) / took))} rows/s on average` : '–';
    }
    $('.speed', el).textContent = speed;
    let eta = '–';
    if (t.state === 'COMPLETED') {
      eta = took >= 0 ? `done in ${duration(took)}` : 'done';
    } else if (t.state === 'RUNNING' && t.etaSeconds != null) {
      eta = duration(t.etaSeconds);
    }
    $('.eta', el).textContent = eta;

    const note = $('.note', el);
    let noteText = '';
    if (t.requestedState === 'PAUSED') {
      noteText = 'Pausing at the end of the current batch…';
    } else if (t.requestedState === 'TERMINATED') {
      noteText = 'Terminating at the end of the current batch…';
    } else if (t.upload && t.upload.waiting && !FINAL.has(t.state)) {
      noteText = waitingNote(t);
    } else if (t.state === 'PENDING') {
      noteText = 'Waiting for a free runner…';
    }
    note.textContent = noteText;
    note.hidden = !noteText;

    const error = $('.error', el);
    const ended = t.state === 'FAILED' || t.state === 'TERMINATED';
    error.hidden = !ended;
    if (ended) {
      // The time tells a failure after a Resume from the one before it.
      const at = t.state === 'FAILED' ? t.updatedAt : t.finishedAt || t.updatedAt;
      error.textContent = `${STATE_LABEL[t.state]} ${when(at)}: ${endReason(t)}`;
      error.dataset.at = at || '';
    } else {
      error.textContent = '';
    }

    setButton($('.pause', el), can(t, 'pause'), `Pause ${name}`);
    setButton($('.resume', el), can(t, 'resume'), `Resume ${name}`);
    setButton($('.terminate', el), can(t, 'terminate'), `Terminate ${name}`);
    const retry = $('.retry-skip', el);
    retry.hidden = !skipsBadRows(t);
    retry.setAttribute('aria-label', `Retry the ${name}, skipping bad rows`);
    // A task that ended keeps only the actions it still has: no rows of disabled buttons.
    for (const b of el.querySelectorAll('.pause, .resume, .terminate')) {
      b.hidden = b.disabled && (ended || t.state === 'COMPLETED');
    }

    const download = $('.download', el);
    const ready = t.kind === 'EXPORT' && t.state === 'COMPLETED';
    download.hidden = !ready;
    if (ready) {
      download.href = `/tasks/${encodeURIComponent(t.id)}/file`;
      download.setAttribute('download', exportFileName(t));
      download.setAttribute('aria-label', `Download CSV of the ${name}`);
    } else {
      download.removeAttribute('href');
    }

    const rejects = $('.rejects', el);
    const showRejects =
      (t.state === 'FAILED' && (t.kind === 'IMPORT' || t.rowsSkipped > 0)) || t.rowsSkipped > 0;
    rejects.hidden = !showRejects;
    if (showRejects) {
      rejects.href = `/tasks/${encodeURIComponent(t.id)}/rejects`;
      rejects.textContent = t.rowsSkipped > 0 ? `Rejected rows (${count(t.rowsSkipped)})` : 'Rejected rows';
      rejects.setAttribute('aria-label', `Rejected rows of the ${name}`);
    } else {
      rejects.removeAttribute('href');
    }

    renderColumns(el, t);
    let meta = `Created ${when(t.createdAt)}`;
    if (t.finishedAt) {
      meta += ` · finished ${when(t.finishedAt)}`;
    }
    if (t.kind === 'IMPORT' && t.bytesTotal != null) {
      meta += ` · ${bytes(t.bytesDone)} of ${bytes(t.bytesTotal)}`;
    }
    if (t.kind === 'EXPORT' && t.bytesDone > 0) {
      meta += t.state === 'COMPLETED' ? ` · file ${bytes(t.bytesDone)}` : ` · ${bytes(t.bytesDone)} written`;
    }
    el.dataset.bytesDone = String(t.bytesDone || 0);
    $('.meta', el).textContent = meta;
  }

  /** A completed import's table: its columns and their types (from the list of tables). */
  function renderColumns(el, t) {
    const line = $('.columns-of', el);
    const table =
      t.kind === 'IMPORT' && t.state === 'COMPLETED'
        ? tablesCache.find((x) => `${x.schema}.${x.name}` === t.table)
        : null;
    line.hidden = !table;
    line.textContent = table
      ? `Columns of ${t.table}: ${(table.columns || []).map((c) => `${c.name} (${c.type})`).join(', ')}`
      : '';
  }

  /** An import fed by a resumable upload: what arrived beside what is loaded. */
  function renderUpload(el, t, name) {
    const up = t.upload;
    el.dataset.waiting = String(Boolean(up && up.waiting));
    $('.transfer', el).hidden = !up;
    $('.loaded-label', el).hidden = !up;
    $('.loaded', el).hidden = !up;
    if (!up) {
      delete el.dataset.uploaded;
      return;
    }
    el.dataset.uploaded = String(up.bytesReceived || 0);
    const total = up.bytesTotal;
    let percent = 0;
    if (up.complete) {
      percent = 100;
    } else if (total > 0) {
      percent = Math.min(100, (up.bytesReceived / total) * 100);
    }
    const bar = $('.upload-bar', el);
    bar.value = percent;
    bar.textContent = `${Math.floor(percent)} %`;
    bar.setAttribute('aria-label', `Upload for the ${name}`);
    $('.uploaded', el).textContent =
      total != null ? `${bytes(up.bytesReceived)} of ${bytes(total)}` : bytes(up.bytesReceived);
    $('.loaded', el).textContent = bytes(t.bytesDone);
    showLoad(t);
  }

  function waitingNote(t) {
    let text = 'Waiting for the upload: everything that arrived is loaded.';
    if (!upload || upload.taskId !== t.id) {
      const stored = storedFor(t.id);
      if (stored) {
        text += ` Choose ${stored.file.name} again to continue it.`;
      }
      if (t.upload.expiresAt) {
        text += ` Unless more bytes arrive, it expires ${when(t.upload.expiresAt)}.`;
      }
    }
    return text;
  }

  /** A FAILED import that a bad row stopped: it can go on setting bad rows aside. */
  function skipsBadRows(t) {
    return (
      t.kind === 'IMPORT' &&
      t.state === 'FAILED' &&
      can(t, 'resume') &&
      /^line \d+:|\(maxErrors\)/.test(t.error || '')
    );
  }

  function setButton(button, enabled, label) {
    button.disabled = !enabled;
    button.setAttribute('aria-label', label);
  }

  async function command(id, verb, button) {
    const entry = tasks.get(id);
    const region = $('#tasks-message');
    button.disabled = true;
    try {
      const task = await api('POST', `/tasks/${encodeURIComponent(id)}/${verb}`);
      say(region, '');
      upsert(task);
    } catch (e) {
      say(region, e.message, 'error');
      // the task moved on: show it as it is now
      refreshTask(id);
    } finally {
      if (entry) {
        render(entry);
        keepFocus(entry.el, button);
      }
    }
  }

  /** A button that was just used and is now disabled hands the focus to its row. */
  function keepFocus(row, button) {
    if (document.activeElement !== button && document.activeElement !== document.body) {
      return;
    }
    if (!button.disabled) {
      button.focus();
      return;
    }
    const next = [...row.querySelectorAll('button, a[href]')].find(
      (b) => !b.disabled && !b.hidden,
    );
    (next || row).focus();
  }

  async function refreshTask(id) {
    try {
      upsert(await api('GET', `/tasks/${encodeURIComponent(id)}`));
    } catch (e) {
      // the list refresh or the next event will tell
    }
  }

  let listing = null;

  async function refreshTasks(quiet = false) {
    if (listing) {
      return listing;
    }
    listing = (async () => {
      try {
        const list = await api('GET', '/tasks');
        if (Array.isArray(list)) {
          if (quiet) {
            olderOnService = list.length === 100; // the default limit
          }
          if (pageCursor === null && list.length > 0) {
            pageCursor = list[list.length - 1].id; // the newest 100 are the first page
          }
          applyView();
          // oldest first, so each new row lands on top
          for (const task of list.slice().reverse()) {
            upsert(task, quiet);
          }
        }
        $('#tasks-empty').hidden = tasks.size > 0;
        if ($('#tasks-message').dataset.source === 'list') {
          say($('#tasks-message'), '');
          delete $('#tasks-message').dataset.source;
        }
      } catch (e) {
        say($('#tasks-message'), `The task list could not be loaded. ${e.message}`, 'error');
        $('#tasks-message').dataset.source = 'list';
      } finally {
        listing = null;
      }
    })();
    return listing;
  }

  // ---- The list's view: filters, pages, finished tasks cleared away -------------------------
  //
  // Every task the page knows stays in the list; the view shows those that match the filters,
  // PAGE_SIZE more at each "Show more" (older ones are fetched with ?before= when the page has
  // shown all it holds). "Clear finished" hides the tasks finished by then (kept in this
  // browser); nothing is deleted.

  const PAGE_SIZE = 20;
  const CLEARED_KEY = 'tsm-cleared-before';
  let pageLimit = PAGE_SIZE;
  /** Whether the service may hold older tasks than the oldest the page has. */
  let olderOnService = true;
  /**
   * The last task of the pages read from the service (GET /tasks, newest first), where the next
   * page starts. Not the oldest task the page holds: the live snapshot holds every unfinished task
   * however old, so what lies between is only found page by page.
   */
  let pageCursor = null;
  let viewQueued = false;
  /** What waits for the view to be applied (see bringIntoView). */
  let afterView = [];

  function clearedBefore() {
    try {
      return Number(storage().getItem(CLEARED_KEY)) || 0;
    } catch (e) {
      return 0;
    }
  }

  function cleared(t) {
    const at = Date.parse(t.finishedAt);
    return FINAL.has(t.state) && !Number.isNaN(at) && at <= clearedBefore();
  }

  function matches(t) {
    const state = $('#filter-state').value;
    const kind = $('#filter-kind').value;
    const text = $('#filter-text').value.trim().toLowerCase();
    if (state === 'active' ? FINAL.has(t.state) || t.state === 'FAILED' : state && t.state !== state) {
      return false;
    }
    if (kind && t.kind !== kind) {
      return false;
    }
    return !text || t.table.toLowerCase().includes(text);
  }

  /** Shows the tasks of the view (once per turn of the event loop, however many changed). */
  function applyView(then) {
    if (then) {
      afterView.push(then);
    }
    if (viewQueued) {
      return;
    }
    viewQueued = true;
    Promise.resolve().then(() => {
      viewQueued = false;
      let matching = 0;
      let hidden = 0;
      for (const row of $('#tasks').children) {
        const entry = tasks.get(row.dataset.taskId);
        const t = entry && entry.data;
        const away = t && cleared(t) && row.dataset.taskId !== wantInView;
        hidden += away ? 1 : 0;
        const shown = t && !away && matches(t) && matching < pageLimit;
        matching += t && !away && matches(t) ? 1 : 0;
        row.hidden = !shown;
      }
      const showing = Math.min(matching, pageLimit);
      $('#tasks-more').hidden = !(matching > pageLimit || olderOnService);
      $('#tasks-show-cleared').hidden = hidden === 0;
      $('#tasks-show-cleared').textContent = `Show ${count(hidden)} cleared task${hidden === 1 ? '' : 's'}`;
      $('#tasks-count').textContent = tasks.size
        ? `Showing ${count(showing)} of ${count(matching)} matching task${matching === 1 ? '' : 's'}` +
          `${olderOnService ? ' (older ones on the service)' : ''}.`
        : '';
      $('#tasks').dataset.shown = String(showing);
      const queued = afterView;
      afterView = [];
      queued.forEach((f) => f());
    });
  }

  function matchingCount() {
    let matching = 0;
    for (const [, entry] of tasks) {
      matching += !cleared(entry.data) && matches(entry.data) ? 1 : 0;
    }
    return matching;
  }

  /** Shows PAGE_SIZE more: from those the page holds, else older ones from the service. */
  async function showMore() {
    pageLimit += PAGE_SIZE;
    // Pages of tasks the page already holds add nothing: read on until enough are new, or none are left.
    while (matchingCount() < pageLimit && olderOnService) {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE * 5) });
      if (pageCursor) {
        query.set('before', pageCursor);
      }
      try {
        const older = await api('GET', `/tasks?${query}`);
        olderOnService = Array.isArray(older) && older.length === PAGE_SIZE * 5;
        for (const task of older || []) {
          upsert(task, true);
        }
        if (Array.isArray(older) && older.length > 0) {
          pageCursor = older[older.length - 1].id;
        }
      } catch (e) {
        say($('#tasks-message'), `Older tasks could not be loaded. ${e.message}`, 'error');
        break;
      }
    }
    applyView();
  }

  function clearFinished() {
    try {
      storage().setItem(CLEARED_KEY, String(Date.now()));
    } catch (e) {
      // without storage, nothing is remembered: the list stays as it is
    }
    applyView();
  }

  function showCleared() {
    try {
      storage().removeItem(CLEARED_KEY);
    } catch (e) {
      // nothing was kept
    }
    applyView();
  }

  function setUpView() {
    const refilter = () => {
      pageLimit = PAGE_SIZE;
      applyView();
    };
    for (const id of ['filter-state', 'filter-kind', 'filter-text']) {
      $(`#${id}`).addEventListener('input', refilter);
      $(`#${id}`).addEventListener('change', refilter);
    }
    $('#tasks-more').addEventListener('click', showMore);
    $('#tasks-clear').addEventListener('click', clearFinished);
    $('#tasks-show-cleared').addEventListener('click', showCleared);
  }

  // ---- Live updates: Server-Sent Events, else polling ---------------------------------------

  let source = null;
  let sseErrors = 0;
  let pollTimer = null;
  let retryTimer = null;

  function setLive(mode, text) {
    if (document.body.dataset.signedIn === 'false') {
      return; // how to sign in stays said
    }
    const live = $('#live');
    live.dataset.mode = mode;
    live.textContent = text;
  }

  function onEvent(event) {
    let task;
    try {
      task = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    upsert(task);
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (!('EventSource' in window)) {
      startPolling();
      return;
    }
    const es = new EventSource('/tasks/events');
    source = es;
    es.addEventListener('open', () => {
      sseErrors = 0;
      stopPolling();
      setLive('live', 'Live updates on.');
      // the stream starts with every task as it is now: nothing missed while it was down
    });
    es.addEventListener('progress', onEvent);
    es.addEventListener('state', onEvent);
    es.addEventListener('message', onEvent);
    es.addEventListener('error', () => {
      if (source !== es) {
        return;
      }
      sseErrors += 1;
      if (es.readyState === EventSource.CLOSED || sseErrors >= SSE_MAX_ERRORS) {
        es.close();
        source = null;
        startPolling();
        retryTimer = setTimeout(connect, SSE_RETRY_MS);
      } else {
        setLive('reconnecting', 'Live updates interrupted; reconnecting…');
      }
    });
  }

  function startPolling() {
    if (pollTimer) {
      return;
    }
    setLive('polling', `Live updates unavailable; refreshing every ${POLL_MS / 1000} seconds.`);
    const tick = async () => {
      await refreshTasks();
      if (pollTimer) {
        pollTimer = setTimeout(tick, POLL_MS);
      }
    };
    pollTimer = setTimeout(tick, 0);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  // ---- Import -------------------------------------------------------------------------------

  let chosenFile = null;
  let tableWasTyped = false;
  /** The upload in progress (see startUpload), or null. */
  let upload = null;
  /** The task whose load the upload area follows: the last upload's. */
  let uploadTaskId = null;

  /** A table name out of a file name: sales-2024.csv -> sales_2024. */
  function tableFromFile(name) {
    let base = name.replace(/\.[^.]*$/, '').toLowerCase();
    base = base.replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
    if (!base) {
      return '';
    }
    if (/^[0-9]/.test(base)) {
      base = `t_${base}`;
    }
    return base.slice(0, 63);
  }

  function chooseFile(file) {
    chosenFile = file || null;
    carried = null;
    const label = $('#file-name');
    if (chosenFile) {
      label.textContent = `${chosenFile.name} (${bytes(chosenFile.size)})`;
      label.dataset.empty = 'false';
      const table = $('#import-table');
      if (!tableWasTyped || !table.value.trim()) {
        table.value = tableFromFile(chosenFile.name);
        tableWasTyped = false;
      }
      say($('#import-message'), '');
      offerToContinue(chosenFile);
      previewFile();
    } else {
      label.textContent = 'No file chosen';
      label.dataset.empty = 'true';
      showPreview(null);
    }
  }

  // ---- Preview: the columns, their types and the first rows, before the upload -------------
  //
  // The first MiB of the file (cut after its last whole line) is sent to /imports/preview with
  // the form's options; the answer is shown as a table of columns whose name and type can be
  // changed, the first rows and the problems found. The import then sends the changes as rename
  // and types.

  const PREVIEW_BYTES = 1024 * 1024;
  /** The preview shown: {columns}, or null. */
  let preview = null;
  let previewRun = 0;
  /** The options of an unfinished upload of the chosen file: its renames and types are shown. */
  let carried = null;

  /** name:value pairs of a rename or types parameter (a comma in parentheses is the value's). */
  function pairsOf(text) {
    const pairs = new Map();
    for (const part of (text || '').split(/,(?![^(]*\))/)) {
      const colon = part.lastIndexOf(':');
      if (colon > 0) {
        pairs.set(part.slice(0, colon), part.slice(colon + 1));
      }
    }
    return pairs;
  }

  async function previewFile(event) {
    if (event) {
      carried = null; // the options changed: the preview's choices start afresh
    }
    const file = chosenFile;
    const run = ++previewRun;
    if (!file) {
      return;
    }
    const note = $('#preview-note');
    if (/\.gz$/i.test(file.name)) {
      showPreview(null);
      return;
    }
    const form = $('#import-form');
    const options = importOptions(form);
    let body = file.slice(0, PREVIEW_BYTES);
    const partial = file.size > PREVIEW_BYTES;
    if (partial) {
      const bytes = new Uint8Array(await body.arrayBuffer());
      const end = bytes.lastIndexOf(10);
      body = file.slice(0, end > 0 ? end + 1 : PREVIEW_BYTES);
    }
    const query = new URLSearchParams({
      delimiter: options.delimiter,
      header: String(options.header),
    });
    if (options.mode !== 'create' && options.table) {
      query.set('table', options.table);
      query.set('mode', options.mode);
    }
    $('#preview').hidden = false;
    note.textContent = 'Reading the start of the file…';
    try {
      const answer = await api('POST', `/imports/preview?${query}`, undefined, {
        type: 'text/csv',
        body,
      });
      if (run === previewRun) {
        showPreview(answer, partial, options.mode);
      }
    } catch (e) {
      if (run === previewRun) {
        showPreview(null);
        $('#preview').hidden = false;
        note.textContent = `No preview: ${e.message}`;
      }
    }
  }

  function cell(tag, text) {
    const c = document.createElement(tag);
    c.textContent = text;
    return c;
  }

  /** Shows a preview's answer (null: none), its names and types editable. */
  function showPreview(answer, partial, mode) {
    preview = answer ? { columns: answer.columns } : null;
    const box = $('#preview');
    box.hidden = !answer;
    const columns = $('#preview-columns tbody');
    const head = $('#preview-rows thead');
    const rows = $('#preview-rows tbody');
    const problems = $('#preview-problems');
    columns.replaceChildren();
    head.replaceChildren();
    rows.replaceChildren();
    problems.replaceChildren();
    $('#preview-problems-heading').hidden = true;
    if (!answer) {
      $('#preview-note').textContent = '';
      return;
    }
    const sampled = numberFormat.format(answer.sampledRows);
    $('#preview-note').textContent = partial
      ? `From the first ${sampled} rows of the file's first MiB; the whole file may differ.`
      : `From the first ${sampled} rows of the file.`;
    const renames = pairsOf(carried && carried.rename);
    const types = pairsOf(carried && carried.types);
    answer.columns.forEach((column, i) => {
      const renamed = renames.get(column.name) || column.name;
      const tr = document.createElement('tr');
      tr.append(cell('td', column.header === null ? `column ${i + 1}` : column.header));
      const name = document.createElement('input');
      name.type = 'text';
      name.value = renamed;
      name.dataset.column = String(i);
      name.className = 'preview-name';
      name.setAttribute('aria-label', `Name of column ${i + 1}`);
      const type = document.createElement('input');
      type.type = 'text';
      type.value = types.get(renamed) || column.type;
      type.setAttribute('list', 'type-names');
      type.dataset.column = String(i);
      type.className = 'preview-type';
      type.setAttribute('aria-label', `Type of column ${i + 1}`);
      type.disabled = mode && mode !== 'create';
      const nameCell = document.createElement('td');
      nameCell.append(name);
      const typeCell = document.createElement('td');
      typeCell.append(type);
      tr.append(nameCell, typeCell, cell('td', column.reason));
      columns.append(tr);
    });
    const headRow = document.createElement('tr');
    answer.columns.forEach((column) => headRow.append(cell('th', column.name)));
    head.append(headRow);
    for (const row of answer.rows) {
      const tr = document.createElement('tr');
      for (const value of row) {
        const td = cell('td', value === null ? 'NULL' : value);
        td.dataset.null = String(value === null);
        tr.append(td);
      }
      rows.append(tr);
    }
    if (answer.problems.length) {
      $('#preview-problems-heading').hidden = false;
      for (const problem of answer.problems) {
        problems.append(cell('li', `Line ${problem.line}: ${problem.reason}`));
      }
    }
  }

  /** The preview's changes as the import's rename and types parameters ('' for none). */
  function previewChoices() {
    const choice = { rename: '', types: '' };
    if (!preview || $('#preview').hidden) {
      return choice;
    }
    const renames = [];
    const types = [];
    preview.columns.forEach((column, i) => {
      const name = $(`.preview-name[data-column="${i}"]`).value.trim() || column.name;
      const type = $(`.preview-type[data-column="${i}"]`);
      if (name !== column.name) {
        renames.push(`${column.name}:${name}`);
      }
      const chosen = type.value.trim();
      if (!type.disabled && chosen && chosen !== column.type) {
        types.push(`${name}:${chosen}`);
      }
    });
    choice.rename = renames.join(',');
    choice.types = types.join(',');
    return choice;
  }

  /** The import's table and options as the form has them. */
  function importOptions(form) {
    const onError = form.onError.value === 'skip' ? 'skip' : 'fail';
    return {
      table: form.table.value.trim(),
      mode: form.mode.value || 'create',
      delimiter: form.delimiter.value || ',',
      header: form.header.checked,
      onError,
      maxErrors: onError === 'skip' ? form.maxErrors.value.trim() : '',
      types: '',
      rename: '',
    };
  }

  function setImportOptions(form, options) {
    form.table.value = options.table;
    tableWasTyped = true;
    form.mode.value = options.mode;
    form.delimiter.value = options.delimiter;
    form.header.checked = options.header;
    form.onError.value = options.onError;
    form.maxErrors.value = options.maxErrors;
    $('#max-errors-field').hidden = options.onError !== 'skip';
  }

  // ---- Resumable uploads (tus 1.0 at /uploads) ----------------------------------------------
  //
  // An upload is created (POST: its length and the import's options as metadata), then sent in
  // chunks (PATCH at the upload's offset). A network failure, a 409 (the offset moved), a 423
  // (another request still writes) or a 5xx is retried with backoff, from the offset HEAD tells;
  // any other refusal ends the upload with the problem's detail. The upload's address is kept in
  // localStorage under a fingerprint of the file and the options, so choosing the same file again
  // (after a reload, a crash, a lost connection) continues where the service stopped receiving.

  const TUS = '1.0.0';
  const OCTETS = 'application/offset+octet-stream';
  /** Bytes a PATCH carries; data-chunk-size on the import form sets another (tests, slow links). */
  const CHUNK_BYTES = 4 * 1024 * 1024;
  const RETRY_MS = [1000, 2000, 4000, 8000, 15000, 30000];
  /** Failed attempts in a row before the upload stops (it can still be continued later). */
  const MAX_FAILURES = 10;
  const STORE_PREFIX = 'tsm-upload ';
  const LEAVE_WARNING =
    'The upload is not finished. If you leave, it stops here; choose the same file again on ' +
    'this page and it continues where it stopped.';

  /** The upload was cancelled (or its import terminated): a request in flight was aborted. */
  class Cancelled extends Error {}

  function chunkBytes(form) {
    const n = Number(form.dataset.chunkSize);
    return Number.isInteger(n) && n > 0 ? n : CHUNK_BYTES;
  }

  /** Base64 of the UTF-8 bytes of a text, as Upload-Metadata carries values. */
  function base64(text) {
    let binary = '';
    for (const b of new TextEncoder().encode(String(text))) {
      binary += String.fromCharCode(b);
    }
    return btoa(binary);
  }

  function uploadMetadata(options, file) {
    const pairs = {
      table: options.table,
      mode: options.mode,
      delimiter: options.delimiter,
      header: String(options.header),
      onError: options.onError,
      filename: file.name,
    };
    for (const key of ['maxErrors', 'types', 'rename']) {
      if (options[key]) {
        pairs[key] = options[key];
      }
    }
    return Object.entries(pairs)
      .map(([key, value]) => `${key} ${base64(value)}`)
      .join(',');
  }

  // What is remembered of unfinished uploads: {url, taskId, file: {name, size, lastModified},
  // options, offset, expires}, under a key naming the file and the import's options.

  function fingerprint(file, options) {
    const o = options;
    return (
      STORE_PREFIX +
      JSON.stringify([
        file.name,
        file.size,
        file.lastModified,
        o.table,
        o.mode,
        o.delimiter,
        o.header,
        o.onError,
        o.maxErrors,
        o.types || '',
        o.rename || '',
      ])
    );
  }

  function storage() {
    try {
      return window.localStorage;
    } catch (e) {
      return null; // storage refused: uploads still run, they cannot be continued after a reload
    }
  }

  function recall(key) {
    try {
      const entry = JSON.parse(storage().getItem(key));
      return entry && typeof entry.url === 'string' ? entry : null;
    } catch (e) {
      return null;
    }
  }

  function remember(job) {
    try {
      storage().setItem(
        job.key,
        JSON.stringify({
          url: job.url,
          taskId: job.taskId,
          file: { name: job.file.name, size: job.file.size, lastModified: job.file.lastModified },
          options: job.options,
          offset: job.offset,
          expires: job.expires,
        }),
      );
    } catch (e) {
      // no storage, or full: this upload just cannot be continued after a reload
    }
  }

  function forget(key) {
    try {
      storage().removeItem(key);
    } catch (e) {
      // nothing was kept
    }
  }

  function storedUploads() {
    const found = [];
    const store = storage();
    for (let i = 0; store && i < store.length; i++) {
      const key = store.key(i);
      const entry = key && key.startsWith(STORE_PREFIX) ? recall(key) : null;
      if (entry) {
        found.push({ key, entry });
      }
    }
    return found;
  }

  /** Forgets uploads the service has expired by now. */
  function pruneStoredUploads() {
    for (const { key, entry } of storedUploads()) {
      const expires = Date.parse(entry.expires);
      if (!Number.isNaN(expires) && expires < Date.now()) {
        forget(key);
      }
    }
  }

  function sameFile(entry, file) {
    const f = entry.file || {};
    return f.name === file.name && f.size === file.size && f.lastModified === file.lastModified;
  }

  /** A file this browser partly uploaded: its table and options back, so the upload continues. */
  function offerToContinue(file) {
    const earlier = storedUploads().find(({ entry }) => sameFile(entry, file) && entry.options);
    if (!earlier) {
      return;
    }
    const { entry } = earlier;
    setImportOptions($('#import-form'), entry.options);
    carried = entry.options;
    say(
      $('#import-message'),
      `${file.name} was partly uploaded (${bytes(entry.offset)} of ${bytes(file.size)}) into ` +
        `${entry.options.table}: Upload and import continues where it stopped, with the same ` +
        'table and options.',
    );
  }

  /** The unfinished upload remembered for a task, if any (a hint on its row). */
  function storedFor(taskId) {
    const found = storedUploads().find(({ entry }) => entry.taskId === taskId);
    return found ? found.entry : null;
  }

  /**
   * One tus request. Resolves with the answer, status 0 for a network failure; rejects with
   * Cancelled when aborted.
   */
  function tus(method, url, job, { headers = {}, body = null, progress = null } = {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader('Tus-Resumable', TUS);
      xhr.setRequestHeader('Accept', 'application/json');
      for (const [name, value] of Object.entries(headers)) {
        xhr.setRequestHeader(name, value);
      }
      if (progress) {
        xhr.upload.addEventListener('progress', (e) => progress(e.loaded));
      }
      const settle = (status) => {
        if (job.xhr === xhr) {
          job.xhr = null;
        }
        if (status === 401) {
          signedOut();
        }
        resolve({
          status,
          statusText: xhr.statusText,
          header: (name) => (status ? xhr.getResponseHeader(name) : null),
          type: status ? xhr.getResponseHeader('Content-Type') : null,
          text: status ? xhr.responseText : '',
        });
      };
      xhr.addEventListener('load', () => settle(xhr.status));
      xhr.addEventListener('error', () => settle(0));
      xhr.addEventListener('abort', () => {
        if (job.xhr === xhr) {
          job.xhr = null;
        }
        reject(new Cancelled());
      });
      job.xhr = xhr;
      xhr.send(body);
    });
  }

  function refusal(answer) {
    return problemText(answer.status, answer.statusText, answer.type, answer.text);
  }

  /** Worth another try, from the offset HEAD tells. */
  function retryable(status) {
    return status === 0 || status === 409 || status === 423 || status === 460 || status >= 500;
  }

  /** An answer that ends the upload; kept for later unless the upload itself was refused. */
  function stopped(answer) {
    const error = new ApiError(answer.status, refusal(answer));
    error.keep = answer.status === 401 || retryable(answer.status);
    return error;
  }

  function offsetOf(answer, fallback) {
    const n = Number(answer.header('Upload-Offset'));
    return answer.header('Upload-Offset') !== null && Number.isSafeInteger(n) ? n : fallback;
  }

  /** Notes what the answer says of the upload: its task, its expiry; remembers the offset. */
  function took(job, answer) {
    const link = /<\/tasks\/([^>]+)>;\s*rel="task"/.exec(answer.header('Link') || '');
    if (link) {
      job.taskId = decodeURIComponent(link[1]);
    }
    job.expires = answer.header('Upload-Expires') || job.expires;
    remember(job);
  }

  /** Waits before another try (cut short when the browser is back online). */
  function backoff(job, failures, answer) {
    if (answer.status === 409) {
      return Promise.resolve(); // ask the offset at once
    }
    const ms = RETRY_MS[Math.min(failures, RETRY_MS.length) - 1];
    let why = `The service answered ${answer.status}`;
    if (answer.status === 0) {
      why = 'The connection to the service was lost';
    } else if (answer.status === 423) {
      why = 'An earlier request is still writing this upload';
    }
    uploadStatus(job, `${why}; trying again in ${duration(ms / 1000)}…`);
    return new Promise((resolve, reject) => {
      let timer = null;
      const end = () => {
        clearTimeout(timer);
        window.removeEventListener('online', wake);
        job.wake = null;
      };
      const wake = () => {
        end();
        uploadStatus(job, '');
        resolve();
      };
      timer = setTimeout(wake, ms);
      window.addEventListener('online', wake);
      job.wake = () => {
        end();
        reject(new Cancelled());
      };
    });
  }

  /** HEAD until answered (network failures and 5xx are retried); the answer as it came. */
  async function head(job) {
    for (let failures = 1; ; failures++) {
      const answer = await tus('HEAD', job.url, job);
      if (!(answer.status === 0 || answer.status >= 500) || failures >= MAX_FAILURES) {
        return answer;
      }
      await backoff(job, failures, answer);
    }
  }

  /** Creates the upload and the import it feeds. */
  async function create(job) {
    const answer = await tus('POST', '/uploads', job, {
      headers: {
        'Upload-Length': String(job.file.size),
        'Upload-Metadata': uploadMetadata(job.options, job.file),
      },
    });
    if (answer.status !== 201) {
      throw new ApiError(answer.status, refusal(answer));
    }
    job.url = new URL(answer.header('Location'), window.location.href).pathname;
    job.offset = offsetOf(answer, 0);
    took(job, answer);
    await showTask(job);
    inView(job.taskId);
    say($('#import-message'), `Uploading ${job.file.name} into ${job.qualified}…`);
  }

  /** Continues the upload remembered for this file and these options; false if there is none. */
  async function continueEarlier(job) {
    const entry = recall(job.key);
    if (!entry) {
      return false;
    }
    job.url = entry.url;
    job.taskId = entry.taskId;
    const answer = await head(job);
    const otherLength =
      answer.status === 200 && Number(answer.header('Upload-Length')) !== job.file.size;
    if (answer.status === 404 || answer.status === 410 || otherLength) {
      forget(job.key); // gone (terminated, expired, another user's): a new upload
      job.url = null;
      job.taskId = null;
      return false;
    }
    if (answer.status !== 200) {
      throw stopped(answer);
    }
    job.offset = offsetOf(answer, 0);
    job.resumedFrom = job.offset;
    $('#upload').dataset.resumedFrom = String(job.offset);
    took(job, answer);
    uploaded(job, job.offset);
    await showTask(job);
    say(
      $('#import-message'),
      `Continuing the upload of ${job.file.name} into ${job.qualified} from ` +
        `${bytes(job.offset)} of ${bytes(job.file.size)}…`,
    );
    return true;
  }

  /** Sends the rest of the file, chunk by chunk, from the upload's offset. */
  async function sendRest(job) {
    const size = job.file.size;
    let failures = 0;
    let patched = false;
    for (;;) {
      if (job.cancelled) {
        throw new Cancelled();
      }
      const start = job.offset;
      if (start >= size && (size > 0 || patched)) {
        return; // an empty file is still sent once, for the service to say what it makes of it
      }
      const end = Math.min(size, start + job.chunk);
      patched = true;
      job.sent += end - start;
      $('#upload').dataset.sent = String(job.sent);
      const answer = await tus('PATCH', job.url, job, {
        headers: { 'Content-Type': OCTETS, 'Upload-Offset': String(start) },
        body: job.file.slice(start, end),
        progress: (n) => uploaded(job, start + n),
      });
      if (answer.status === 204) {
        failures = 0;
        job.offset = offsetOf(answer, end);
        took(job, answer);
        uploaded(job, job.offset);
        continue;
      }
      failures += 1;
      // What went up was not taken: the bar goes back to what the service confirmed.
      uploaded(job, job.offset);
      if (!retryable(answer.status) || failures >= MAX_FAILURES) {
        throw stopped(answer);
      }
      await backoff(job, failures, answer);
      // a request that broke off kept what arrived: continue from what the service has
      const now = await head(job);
      if (now.status !== 200) {
        throw stopped(now);
      }
      job.offset = offsetOf(now, job.offset);
      took(job, now);
      uploaded(job, job.offset);
    }
  }

  /** Shows the upload's task (the event stream shows it too) and learns its table's full name. */
  async function showTask(job) {
    uploadTaskId = job.taskId;
    job.qualified = job.options.table;
    if (!job.taskId) {
      return;
    }
    try {
      const task = await api('GET', `/tasks/${encodeURIComponent(job.taskId)}`);
      upsert(task);
      job.qualified = task.table;
    } catch (e) {
      // the event stream brings it
    }
  }

  /** The upload's own figure: bytes sent of the file (the service confirms each chunk). */
  function uploaded(job, sent) {
    const size = job.file.size;
    const percent = size > 0 ? Math.min(100, (sent / size) * 100) : 100;
    const bar = $('#upload-progress');
    job.events += 1;
    bar.dataset.events = String(job.events);
    bar.value = percent;
    bar.textContent = `${Math.floor(percent)} %`;
    $('#upload-percent').textContent =
      `${Math.floor(percent)} % · ${bytes(Math.min(sent, size))} of ${bytes(size)}`;
  }

  /** The import's figure in the upload area: bytes of the file loaded into the table. */
  function showLoad(t) {
    if (t.id !== uploadTaskId) {
      return;
    }
    const percent = Math.max(0, Math.min(100, Number(t.percent) || 0));
    const bar = $('#load-progress');
    bar.value = percent;
    bar.textContent = `${percentFormat.format(percent)} %`;
    bar.dataset.bytes = String(t.bytesDone || 0);
    $('#load-percent').textContent =
      `${percentFormat.format(percent)} % · ${bytes(t.bytesDone)} loaded`;
    const box = $('#upload');
    box.dataset.waiting = String(Boolean(t.upload && t.upload.waiting) && !FINAL.has(t.state));
    box.dataset.taskState = t.state;
    uploadStatus(upload, null);
  }

  /** The line under the bars: a retry under way, else whether the import waits for bytes. */
  function uploadStatus(job, retrying) {
    if (job && retrying !== null) {
      job.retrying = retrying;
    }
    const box = $('#upload');
    let text = job && job.retrying ? job.retrying : '';
    if (!text && box.dataset.waiting === 'true') {
      text = 'Waiting for the upload: everything that arrived is loaded.';
    }
    $('#upload-status').textContent = text;
  }

  function startUpload(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const message = $('#import-message');
    if (upload) {
      return;
    }
    if (!chosenFile) {
      say(message, 'Choose a CSV file first.', 'error');
      $('#import-file').focus();
      return;
    }
    const options = { ...importOptions(form), ...previewChoices() };
    if (!options.table) {
      say(message, 'Enter the name of the table to import into.', 'error');
      form.table.focus();
      return;
    }
    const file = chosenFile;
    const job = {
      file,
      options,
      key: fingerprint(file, options),
      chunk: chunkBytes(form),
      url: null,
      taskId: null,
      qualified: options.table,
      expires: null,
      offset: 0,
      sent: 0,
      events: 0,
      xhr: null,
      wake: null,
      retrying: '',
      cancelled: false,
      done: false,
    };
    upload = job;
    uploadTaskId = null;
    const box = $('#upload');
    box.hidden = false;
    box.dataset.waiting = 'false';
    box.dataset.sent = '0';
    delete box.dataset.resumedFrom;
    delete box.dataset.taskState;
    $('#upload-progress').dataset.done = 'false';
    uploaded(job, 0);
    job.events = 0;
    $('#upload-progress').dataset.events = '0';
    const load = $('#load-progress');
    load.value = 0;
    load.dataset.bytes = '0';
    $('#load-percent').textContent = '0 %';
    uploadStatus(job, '');
    $('#upload-hint').hidden = false;
    say(message, `Uploading ${file.name}…`);
    $('#import-submit').disabled = true;
    $('#import-cancel').hidden = false;
    $('#import-cancel').disabled = false;
    runUpload(job);
  }

  async function runUpload(job) {
    const message = $('#import-message');
    try {
      if (!(await continueEarlier(job))) {
        if (job.cancelled) {
          throw new Cancelled();
        }
        await create(job);
      }
      await sendRest(job);
      job.done = true;
      forget(job.key);
      uploaded(job, job.file.size);
      $('#upload-progress').dataset.done = 'true';
      say(
        message,
        `Upload of ${job.file.name} complete; the import into ${job.qualified} started.`,
        'ok',
      );
      const shown = tasks.get(job.taskId);
      if (shown) {
        importEnded(shown.data); // it may have ended before the last answer came
      }
      if (chosenFile === job.file) {
        resetImportForm();
      }
    } catch (e) {
      if (e instanceof Cancelled || job.cancelled) {
        await discard(job);
      } else {
        if (!e.keep) {
          forget(job.key);
        }
        const later =
          e.keep && job.url
            ? ' Choose the same file again to continue the upload where it stopped.'
            : '';
        say(message, `${e.message}${later}`, 'error');
        if (!job.url) {
          markField($('#import-form'), e.message); // refused at creation: an option is wrong
        }
      }
    } finally {
      upload = null;
      uploadStatus(null, null);
      $('#upload-hint').hidden = true;
      $('#import-submit').disabled = false;
      $('#import-cancel').hidden = true;
    }
  }

  /** Ends a cancelled upload: DELETE terminates it and its import. */
  async function discard(job) {
    const message = $('#import-message');
    if (!job.url) {
      $('#upload').hidden = true;
      say(message, 'Upload cancelled.');
      return;
    }
    const answer = await tus('DELETE', job.url, job);
    if (answer.status === 204 || answer.status === 404 || answer.status === 410) {
      forget(job.key);
      message.dataset.ended = job.taskId || '';
      if (job.endedBy) {
        const why = job.endedBy.error ? `: ${sentence(job.endedBy.error)}` : '.';
        say(message, `The import into ${job.qualified} was terminated; its upload stopped${why}`);
      } else {
        say(message, `Upload cancelled; the import into ${job.qualified} was terminated.`);
      }
      refreshTask(job.taskId);
      return;
    }
    say(message, `The upload could not be cancelled. ${refusal(answer)}`, 'error');
  }

  function cancelUpload() {
    const job = upload;
    if (!job || job.cancelled) {
      return;
    }
    const question =
      `Cancel the upload of ${job.file.name}?\n\n` +
      `Its import into ${job.qualified} is terminated: rows loaded so far are removed and the ` +
      'table is left as it was before.';
    if (!window.confirm(question)) {
      return;
    }
    stopUpload(job);
  }

  /** Stops sending: a request under way is aborted (a creation is let finish, then deleted). */
  function stopUpload(job) {
    job.cancelled = true;
    $('#import-cancel').disabled = true;
    if (job.xhr && job.url) {
      job.xhr.abort();
    }
    if (job.wake) {
      job.wake();
    }
  }

  /** The import of the upload under way was terminated (its row's button, or the service). */
  function uploadTaskEnded(task) {
    const job = upload;
    const ours = job && !job.done && !job.cancelled && job.taskId === task.id;
    if (ours && task.state === 'TERMINATED') {
      job.endedBy = task;
      stopUpload(job);
    }
  }

  /**
   * The field of the import form a refusal is about (a parameter it names, or the table), marked
   * invalid and focused; null if it names none.
   */
  function markField(form, text) {
    const named = /parameter '(\w+)'/i.exec(text);
    let field = null;
    if (named && form.elements[named[1]]) {
      field = form.elements[named[1]];
    } else if (/\btable\b/i.test(text)) {
      field = form.table;
    }
    if (field instanceof RadioNodeList) {
      field = field[0];
    }
    if (!field || typeof field.focus !== 'function') {
      return null;
    }
    const details = field.closest('details');
    if (details) {
      details.open = true;
    }
    field.setAttribute('aria-invalid', 'true');
    field.setAttribute('aria-errormessage', 'import-message');
    field.focus();
    return field;
  }

  function unmarkFields(form) {
    for (const el of form.querySelectorAll('[aria-invalid="true"]')) {
      el.removeAttribute('aria-invalid');
      el.removeAttribute('aria-errormessage');
    }
  }

  function resetImportForm() {
    const input = $('#import-file');
    input.value = '';
    chooseFile(null);
    $('#import-table').value = '';
    tableWasTyped = false;
  }

  function setUpImport() {
    const form = $('#import-form');
    const input = $('#import-file');
    const zone = $('#drop-zone');
    input.addEventListener('change', () => chooseFile(input.files && input.files[0]));
    $('#import-table').addEventListener('input', () => {
      tableWasTyped = true;
    });
    form.addEventListener('submit', startUpload);
    form.addEventListener('input', (e) => {
      if (e.target.getAttribute('aria-invalid') === 'true') {
        unmarkFields(form);
      }
    });
    form.addEventListener('change', (e) => {
      if (e.target.name === 'mode') {
        unmarkFields(form);
      }
    });
    $('#import-cancel').addEventListener('click', cancelUpload);
    window.addEventListener('beforeunload', (e) => {
      if (!upload || upload.done || upload.cancelled) {
        return undefined;
      }
      e.preventDefault();
      e.returnValue = LEAVE_WARNING;
      return LEAVE_WARNING;
    });
    pruneStoredUploads();
    // The preview follows the options that change how the file reads.
    for (const field of [form.delimiter, form.header]) {
      field.addEventListener('change', previewFile);
    }
    for (const radio of form.querySelectorAll('input[name="mode"]')) {
      radio.addEventListener('change', previewFile);
    }
    $('#import-on-error').addEventListener('change', (e) => {
      $('#max-errors-field').hidden = e.target.value !== 'skip';
    });

    // The drop zone is the file input's label: a click, Enter or Space opens the file picker.
    let depth = 0;
    zone.addEventListener('dragenter', (e) => {
      e.preventDefault();
      depth += 1;
      zone.classList.add('dragging');
    });
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      if (e.dataTransfer) {
        e.dataTransfer.dropEffect = 'copy';
      }
    });
    zone.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) {
        zone.classList.remove('dragging');
      }
    });
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      depth = 0;
      zone.classList.remove('dragging');
      const files = e.dataTransfer && e.dataTransfer.files;
      if (!files || files.length === 0) {
        say($('#import-message'), 'Drop a file (not text or a link) to import it.', 'error');
        return;
      }
      if (files.length > 1) {
        say($('#import-message'), 'Drop one file at a time; the first one is used.', 'info');
      }
      try {
        // keep the input in step where the browser allows it
        const transfer = new DataTransfer();
        transfer.items.add(files[0]);
        input.files = transfer.files;
      } catch (err) {
        // the chosen file is still held below
      }
      chooseFile(files[0]);
    });
    // A file dropped next to the zone must not replace the page.
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());
  }

  // ---- Export -------------------------------------------------------------------------------

  const pageExports = new Set();
  let tablesCache = [];
  let tablesLoading = null;

  function loadTables() {
    if (tablesLoading) {
      return tablesLoading;
    }
    tablesLoading = (async () => {
      const select = $('#export-table');
      const previous = select.value;
      try {
        const tables = await api('GET', '/tables');
        tablesCache = Array.isArray(tables) ? tables : [];
        select.replaceChildren();
        const prompt = document.createElement('option');
        prompt.value = '';
        prompt.textContent = tablesCache.length ? 'Choose a table' : 'No tables to export yet';
        select.append(prompt);
        for (const t of tablesCache) {
          const option = document.createElement('option');
          option.value = `${t.schema}.${t.name}`;
          option.textContent =
            t.estimatedRows >= 0
              ? `${t.schema}.${t.name} (about ${count(t.estimatedRows)} rows)`
              : `${t.schema}.${t.name}`;
          select.append(option);
        }
        if ([...select.options].some((o) => o.value === previous)) {
          select.value = previous;
        }
        describeTable();
        for (const entry of tasks.values()) {
          renderColumns(entry.el, entry.data);
        }
        if ($('#export-message').dataset.source === 'tables') {
          say($('#export-message'), '');
          delete $('#export-message').dataset.source;
        }
      } catch (e) {
        say($('#export-message'), `The list of tables could not be loaded. ${e.message}`, 'error');
        $('#export-message').dataset.source = 'tables';
      } finally {
        select.dataset.loaded = String(Date.now());
        tablesLoading = null;
      }
    })();
    return tablesLoading;
  }

  /** One checkbox a column of the chosen table, all ticked: the export's columns. */
  function exportColumns(table) {
    const box = $('#export-columns');
    box.replaceChildren();
    $('#export-columns-empty').hidden = Boolean(table);
    for (const column of (table && table.columns) || []) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.checked = true;
      input.value = column.name;
      input.name = 'column';
      label.append(input, ` ${column.name}`);
      box.append(label);
    }
  }

  function describeTable() {
    const value = $('#export-table').value;
    const table = tablesCache.find((t) => `${t.schema}.${t.name}` === value);
    const hint = $('#export-table-hint');
    if (!table) {
      hint.textContent = '';
      exportColumns(null);
      return;
    }
    exportColumns(table);
    const columns = (table.columns || []).map((c) => `${c.name} (${c.type})`).join(', ');
    const order = table.primaryKey ? 'in primary-key order' : 'in physical order (no primary key)';
    hint.textContent = `Columns: ${columns}. Rows are written ${order}.`;
  }

  async function startExport(event) {
    event.preventDefault();
    const message = $('#export-message');
    const table = $('#export-table').value;
    if (!table) {
      say(message, 'Choose a table to export.', 'error');
      $('#export-table').focus();
      return;
    }
    const button = $('#export-submit');
    button.disabled = true;
    try {
      const body = { table };
      if ($('#export-gzip').checked) {
        body.compression = 'gzip';
      }
      const boxes = [...document.querySelectorAll('#export-columns input')];
      if (boxes.some((b) => !b.checked)) {
        body.columns = boxes.filter((b) => b.checked).map((b) => b.value);
      }
      if ($('#export-delimiter').value !== ',') {
        body.delimiter = $('#export-delimiter').value; // "\\t" is a tab, as for imports
      }
      if (!$('#export-header').checked) {
        body.header = false;
      }
      const task = await api('POST', '/exports', body);
      pageExports.add(task.id);
      upsert(task);
      inView(task.id);
      say(message, `Export of ${task.table} started; the download link appears when it completes.`, 'ok');
      // the event stream may have shown it completed before this answer came
      exportReady(tasks.get(task.id).data);
    } catch (e) {
      say(message, e.message, 'error');
    } finally {
      button.disabled = false;
    }
  }

  function setUpExport() {
    for (const option of $('#import-delimiter').options) {
      $('#export-delimiter').append(option.cloneNode(true));
    }
    $('#export-form').addEventListener('submit', startExport);
    $('#export-table').addEventListener('change', describeTable);
    $('#tables-refresh').addEventListener('click', loadTables);
  }

  // ---- Start --------------------------------------------------------------------------------

  function start() {
    setUpImport();
    setUpExport();
    setUpView();
    $('#tasks-refresh').addEventListener('click', () => refreshTasks());
    refreshTasks(true);
    loadTables();
    connect();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
