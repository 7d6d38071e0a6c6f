package dev.tsm;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Every setting of the service; each can be given as an environment variable (TSM_...). */
@ConfigMapping(prefix = "tsm")
public interface Config {

  /** Where files live. */
  Storage storage();

  /** Import tasks. */
  @WithName("import")
  Import importing();

  /** Export tasks. */
  Export export();

  /** The task runner. */
  Runner runner();

  /** How long finished work is kept, and the sweep that removes what is left over. */
  Retention retention();

  /** Request bodies other than uploads. */
  Http http();

  /** Resumable uploads (tus 1.0 at /uploads). */
  Upload upload();

  /** Who may call, and what each caller may do (docs/security.md). */
  Security security();

  /** Completion callbacks: the final task POSTed to a URL (docs/architecture.md, "Callbacks"). */
  Callback callback();

  /** Idempotency-Key on the requests that create tasks. */
  Idempotency idempotency();

  /** Server-Sent Events streams of task changes. */
  Events events();

  /** Schemas whose tables clients may import into and export from. */
  @WithDefault("public")
  List<String> schemas();

  interface Storage {
    /** Folder for staged uploads and export files; one folder shared by all replicas. */
    @WithDefault("data/files")
    String dir();

    /**
     * Free space an upload must leave on the volume of {@code dir}: refused (507) before it starts
     * when it would leave less, stopped while it arrives when the volume falls under it.
     */
    @WithDefault("1G")
    MemorySize minFreeSpace();

    /**
     * Quota on the staged import files in {@code dir} (every replica's) plus the bodies this
     * instance is receiving: an upload that would pass it gets 507.
     */
    @WithDefault("50G")
    MemorySize maxStagedBytes();
  }

  interface Import {
    /** Largest accepted upload; a larger body gets 413. */
    @WithDefault("10G")
    MemorySize maxBodySize();

    /** A client that sends no body bytes for this long gets 408 and its upload is dropped. */
    @WithDefault("30s")
    Duration idleTimeout();

    /** Bodies this instance receives at once; one more gets 503 with Retry-After. */
    @WithDefault("8")
    int maxConcurrentUploads();

    /** A batch (one transaction with its checkpoint) holds at most this many rows... */
    @WithDefault("50000")
    int batchRows();

    /** ...and at most about this many bytes. */
    @WithDefault("8M")
    MemorySize batchBytes();

    /**
     * Batches of one import copied side by side, each on its own connection; they still commit in
     * file order. 2 lets PostgreSQL parse on two cores; 1 writes strictly one at a time.
     */
    @WithDefault("2")
    int parallelism();

    /** Longest accepted field. */
    @WithDefault("1M")
    MemorySize maxFieldSize();

    /** Longest accepted record (all its fields and line end). */
    @WithDefault("8M")
    MemorySize maxRecordSize();

    /** Most columns a file may have (PostgreSQL allows 1600 in a table). */
    @WithDefault("1600")
    int maxColumns();

    /** Rows read from the start of the file to infer column types... */
    @WithDefault("1000")
    int sampleRows();

    /** ...and at most this many bytes of them, so that wide rows do not delay the answer. */
    @WithDefault("16M")
    MemorySize sampleBytes();

    /**
     * Bad rows kept (line, reason, record) per task for {@code /tasks/{id}/rejects}; past this they
     * are still counted (rowsSkipped) but not stored.
     */
    @WithDefault("10000")
    int maxStoredRejects();
  }

  interface Export {
    /** Rows in one page (one COPY TO and one checkpoint)... */
    @WithDefault("200000")
    int batchRows();

    /**
     * ...and about this many bytes in one, judged from the bytes per row of the pages before: a
     * page of long rows ends sooner, so a pause is heard as soon.
     */
    @WithDefault("16M")
    MemorySize batchBytes();

    /**
     * Pages of one export copied side by side, each on its own connection into its own page file;
     * they are appended to the export's file in order. 3 keeps two cores busy while a page is
     * appended and synced; 1 writes strictly one page at a time.
     */
    @WithDefault("3")
    int parallelism();

    /**
     * Downloads this instance serves at once of exports still running ({@code ?follow=true}), each
     * holding a worker thread while it waits for pages; one more gets 503 with Retry-After.
     */
    @WithDefault("16")
    int maxFollowers();

    /**
     * A download that follows a running export ends (the connection cut, the bytes so far final)
     * when no page came for this long, e.g. while the export stays paused; the rest can be asked
     * for later with a Range.
     */
    @WithDefault("60s")
    Duration followIdleTimeout();

    /**
     * A download (of a completed file, or following a running export) whose client takes no bytes
     * for this long is cut: its connection reset over HTTP/1.1, its stream alone over HTTP/2.
     * Without it, only the HTTP idle timeout (30 minutes) would give back the connection and the
     * open file.
     */
    @WithDefault("60s")
    Duration downloadIdleTimeout();

    /**
     * Tables with up to this many rows (PostgreSQL's estimate) are counted exactly when the export
     * is asked for; larger ones start with the estimate (a count would hold up the answer by about
     * 0.1 s a million rows), and every completed export's total is its exact row count.
     */
    @WithDefault("100000")
    long exactCountLimit();

    /**
     * Deflate level of exports asked with compression=gzip: 1 (fastest) to 9 (smallest), 0 stores
     * the CSV uncompressed inside the gzip format.
     */
    @WithDefault("1")
    int gzipLevel();
  }

  interface Upload {
    /**
     * An unfinished resumable upload that receives nothing for this long expires: its import is
     * terminated and its bytes deleted. Each request that brings bytes starts the time again.
     */
    @WithDefault("24h")
    Duration expiry();

    /**
     * A run of an import that has read every byte received so far waits this long for more, then
     * hands the task back (PENDING, holding nothing) until more bytes arrive.
     */
    @WithDefault("5s")
    Duration waitInRun();

    /**
     * How long a request writing to an upload holds it without renewing (renewed while bytes flow):
     * another request for the same upload meanwhile gets 423.
     */
    @WithDefault("30s")
    Duration writerLease();
  }

  interface Callback {
    /**
     * URL every task without one of its own calls back when it ends (absolute http or https);
     * unset: only tasks that name a callback do.
     */
    Optional<String> url();

    /**
     * Key of the HMAC-SHA256 signature of each body, sent as {@code X-TSM-Signature: sha256=<hex>};
     * unset: bodies are sent unsigned.
     */
    Optional<String> secret();

    /** How long one attempt may take to connect and to get the response's status. */
    @WithDefault("10s")
    Duration timeout();

    /** Attempts at one delivery before it is given up (status failed). */
    @WithDefault("10")
    int maxAttempts();

    /** The wait after the first failed attempt; it doubles after each (with jitter)... */
    @WithDefault("1s")
    Duration backoffBase();

    /** ...up to this. */
    @WithDefault("5m")
    Duration backoffMax();

    /** Deliveries this instance attempts at once. */
    @WithDefault("8")
    int maxInFlight();

    /** How often the instance looks for deliveries due. */
    @WithDefault("1s")
    Duration pollInterval();

    /**
     * Whether callbacks may go to loopback, link-local, private (site-local, unique local) and
     * wildcard addresses: refused by default, so that a caller cannot make the service reach what
     * only it can reach.
     */
    @WithDefault("false")
    boolean allowInternalAddresses();
  }

  interface Idempotency {
    /**
     * How long an Idempotency-Key is remembered after its first request: a repeat within it answers
     * the original task; after it the key acts as new (the retention sweep deletes it).
     */
    @WithDefault("24h")
    Duration keyTtl();
  }

  interface Events {
    /** Streams open at once on this instance; one more is refused (503, Retry-After). */
    @WithDefault("2000")
    int maxStreams();

    /**
     * Events a second this instance writes over all its streams: with many streams open, each
     * stream's events are spaced further apart (never closer than 250 ms, latest state wins), so
     * watchers cost a bounded share of the machine whatever their number.
     */
    @WithDefault("400")
    int maxPerSecond();
  }

  interface Http {
    /** Largest JSON request body (an export request); larger gets 413 without being read whole. */
    @WithDefault("64K")
    MemorySize maxJsonBodySize();
  }

  interface Runner {
    /** Tasks this instance runs at once; the rest wait PENDING. */
    @WithDefault("4")
    int maxConcurrentTasks();

    /** How long a running task stays owned by an instance without renewal. */
    @WithDefault("15s")
    Duration lease();

    /** How often the instance looks for PENDING tasks and expired leases. */
    @WithDefault("1s")
    Duration pollInterval();

    /**
     * A pause after each committed batch of a task, to spare a busy database (0: none). Also makes
     * short imports observable in tests.
     */
    @WithDefault("0s")
    Duration throttle();

    /** On shutdown, how long to wait for in-flight batches to commit. */
    @WithDefault("10s")
    Duration drainTimeout();

    /**
     * A task taken over this many times after the instance running it stopped without handing it
     * back (killed, out of memory, cut off past its lease) ends FAILED instead (0: never).
     */
    @WithDefault("3")
    int maxCrashes();
  }

  interface Retention {
    /** The file of a COMPLETED export is deleted this long after completion (then 410). */
    @WithDefault("7d")
    Duration exportFiles();

    /** A FAILED task not resumed for this long is terminated: staging table and file removed. */
    @WithDefault("7d")
    Duration failedTasks();

    /**
     * A task file or staging table with no live task is removed once untouched for this long; well
     * above any upload's idle deadline, since a body is staged before its task exists.
     */
    @WithDefault("1h")
    Duration orphanGrace();

    /** How often the sweep runs (and once at start); one instance at a time sweeps. */
    @WithDefault("10m")
    Duration sweepInterval();
  }

  interface Security {
    /**
     * Serve every caller without authentication, each as an administrator. Only for a service no
     * one else can reach; the log warns at start.
     */
    @WithDefault("false")
    boolean open();

    /** The role that sees and controls every task and may use every table of tsm.schemas. */
    @WithDefault("tsm-admin")
    String adminRole();

    /**
     * Tables each role may import into and export from, as patterns: {@code schema.table}, {@code
     * schema.*} or {@code *} (every table of tsm.schemas).
     */
    Map<String, Grant> grants();

    interface Grant {
      /** Tables the role may import into (create or append). */
      @WithName("import")
      Optional<List<String>> importInto();

      /** Tables the role may export. */
      @WithName("export")
      Optional<List<String>> exportFrom();
    }

    /** Tasks one owner may have PENDING or RUNNING at once; one more gets 429. */
    @WithDefault("8")
    int maxActiveTasksPerOwner();

    /**
     * API keys by subject: a client sends {@code Authorization: Bearer <key>}. Each key is at least
     * 32 characters and starts with {@code tsm_}.
     */
    Map<String, Key> keys();

    interface Key {
      /** The secret itself (from a Kubernetes Secret, never in a file in the image). */
      String key();

      /** Roles of the key's caller. */
      @WithDefault("tsm-user")
      List<String> roles();
    }

    /**
     * Secret that signs the page's session cookies; replicas must share it. Unset: a random one at
     * each start (sessions then end with the instance).
     */
    Optional<String> sessionSecret();

    /** How long a page session lasts after sign-in. */
    @WithDefault("12h")
    Duration sessionLifetime();

    /**
     * Where clients reach the service, for the sign-in link printed at start (for example
     * https://tsm.example.com); unset: http://localhost and the HTTP port.
     */
    Optional<String> publicUrl();
  }
}
