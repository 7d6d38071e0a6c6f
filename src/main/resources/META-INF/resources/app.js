// Task State Manager: the browser page. Plain JavaScript, no framework, nothing fetched from
// elsewhere. Imports are uploaded with XMLHttpRequest (for upload progress), tasks are followed
// live through Server-Sent Events (/tasks/events), with polling of GET /tasks as a fallback.
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
    return sentence(text);
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

  async function api(method, url, json) {
    const init = { method, headers: { Accept: 'application/json' }, cache: 'no-store' };
    if (json !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
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
      }
      return;
    }
    entry = { data: task, el: createRow(task) };
    tasks.set(task.id, entry);
    place(entry);
    render(entry);
    $('#tasks-empty').hidden = true;
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
  }

  /** The name an export's file is saved under: a gzip export's is a .csv.gz file. */
  function exportFileName(task) {
    const gzip = task.options && task.options.compression === 'gzip';
    return `${task.table}.csv${gzip ? '.gz' : ''}`;
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

    $('.percent', el).textContent = `${percentFormat.format(percent)} %`;
    let rows = count(t.rowsDone);
    if (t.kind === 'EXPORT' && t.rowsTotal != null) {
      rows += ` of about ${count(t.rowsTotal)}`;
    }
    if (t.rowsSkipped > 0) {
      rows += ` (${count(t.rowsSkipped)} skipped)`;
    }
    $('.rows', el).textContent = rows;
    $('.speed', el).textContent =
      t.rowsPerSecond > 0 ? `${count(Math.round(t.rowsPerSecond))} rows/s` : '–';
    let eta = '–';
    if (t.state === 'COMPLETED') {
      eta = 'done';
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
    } else if (t.state === 'PENDING') {
      noteText = 'Waiting for a free runner…';
    }
    note.textContent = noteText;
    note.hidden = !noteText;

    const error = $('.error', el);
    error.hidden = !(t.state === 'FAILED' && t.error);
    error.textContent = t.state === 'FAILED' && t.error ? sentence(t.error) : '';

    setButton($('.pause', el), can(t, 'pause'), `Pause ${name}`);
    setButton($('.resume', el), can(t, 'resume'), `Resume ${name}`);
    setButton($('.terminate', el), can(t, 'terminate'), `Terminate ${name}`);

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

    let meta = `Created ${when(t.createdAt)}`;
    if (t.finishedAt) {
      meta += ` · finished ${when(t.finishedAt)}`;
    }
    if (t.kind === 'IMPORT' && t.bytesTotal != null) {
      meta += ` · ${bytes(t.bytesDone)} of ${bytes(t.bytesTotal)}`;
    }
    $('.meta', el).textContent = meta;
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
  let upload = null;

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
    } else {
      label.textContent = 'No file chosen';
      label.dataset.empty = 'true';
    }
  }

  function importParams(form) {
    const params = new URLSearchParams();
    params.set('table', form.table.value.trim());
    params.set('mode', form.mode.value || 'create');
    if (form.delimiter.value && form.delimiter.value !== ',') {
      params.set('delimiter', form.delimiter.value);
    }
    if (!form.header.checked) {
      params.set('header', 'false');
    }
    if (form.onError.value === 'skip') {
      params.set('onError', 'skip');
      if (form.maxErrors.value.trim() !== '') {
        params.set('maxErrors', form.maxErrors.value.trim());
      }
    }
    return params;
  }

  function showUpload(percent, text) {
    const box = $('#upload');
    box.hidden = false;
    const bar = $('#upload-progress');
    bar.value = percent;
    bar.textContent = `${Math.floor(percent)} %`;
    $('#upload-percent').textContent = text;
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
    const table = form.table.value.trim();
    if (!table) {
      say(message, 'Enter the name of the table to import into.', 'error');
      form.table.focus();
      return;
    }
    const file = chosenFile;
    const xhr = new XMLHttpRequest();
    upload = xhr;
    let progressEvents = 0;
    const bar = $('#upload-progress');
    bar.dataset.events = '0';
    bar.dataset.done = 'false';
    showUpload(0, `0 % of ${bytes(file.size)}`);
    say(message, `Uploading ${file.name}…`);
    $('#import-submit').disabled = true;
    $('#import-cancel').hidden = false;

    xhr.open('POST', `/imports?${importParams(form)}`);
    xhr.setRequestHeader('Content-Type', 'text/csv');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      progressEvents += 1;
      bar.dataset.events = String(progressEvents);
      const total = e.lengthComputable ? e.total : file.size;
      const percent = total > 0 ? Math.min(100, (e.loaded / total) * 100) : 0;
      showUpload(percent, `${Math.floor(percent)} % of ${bytes(total)}`);
    });
    xhr.upload.addEventListener('load', () => {
      showUpload(100, `100 % of ${bytes(file.size)}`);
      bar.dataset.done = 'true';
      say(message, 'Upload complete; the service is checking the file…');
    });
    const finish = () => {
      upload = null;
      $('#import-submit').disabled = false;
      $('#import-cancel').hidden = true;
    };
    xhr.addEventListener('load', () => {
      finish();
      const type = xhr.getResponseHeader('Content-Type');
      if (xhr.status === 202 || xhr.status === 201 || xhr.status === 200) {
        let task = null;
        try {
          task = JSON.parse(xhr.responseText);
        } catch (e) {
          task = null;
        }
        if (task && task.id) {
          upsert(task);
          say(message, `Import of ${file.name} into ${task.table} started.`, 'ok');
        } else {
          say(message, `Import of ${file.name} started.`, 'ok');
          refreshTasks();
        }
        resetImportForm();
        return;
      }
      say(message, problemText(xhr.status, xhr.statusText, type, xhr.responseText), 'error');
    });
    xhr.addEventListener('error', () => {
      finish();
      say(message, problemText(0), 'error');
    });
    xhr.addEventListener('abort', () => {
      finish();
      $('#upload').hidden = true;
      say(message, 'Upload cancelled.');
    });
    xhr.send(file);
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
    $('#import-cancel').addEventListener('click', () => upload && upload.abort());
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

  function describeTable() {
    const value = $('#export-table').value;
    const table = tablesCache.find((t) => `${t.schema}.${t.name}` === value);
    const hint = $('#export-table-hint');
    if (!table) {
      hint.textContent = '';
      return;
    }
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
      const task = await api('POST', '/exports', body);
      pageExports.add(task.id);
      upsert(task);
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
    $('#export-form').addEventListener('submit', startExport);
    $('#export-table').addEventListener('change', describeTable);
    $('#tables-refresh').addEventListener('click', loadTables);
  }

  // ---- Start --------------------------------------------------------------------------------

  function start() {
    setUpImport();
    setUpExport();
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
