package dev.tsm.callback;

import dev.tsm.task.Task;

/** The JSON a callback POSTs: the task as clients read it (provided by the web layer). */
public interface CallbackBody {
  String json(Task task);
}
