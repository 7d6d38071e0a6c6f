package dev.tsm.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tsm.callback.CallbackBody;
import dev.tsm.task.Task;
import jakarta.enterprise.context.ApplicationScoped;

/** A callback's body: the task as GET /tasks/{id} shows it. */
@ApplicationScoped
class CallbackJson implements CallbackBody {
  private final ObjectMapper json;

  CallbackJson(ObjectMapper json) {
    this.json = json;
  }

  @Override
  public String json(Task task) {
    try {
      return json.writeValueAsString(TaskView.of(task));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("task " + task.id() + " could not be written as JSON", e);
    }
  }
}
