package dev.tsm.web;

import dev.tsm.Config;
import dev.tsm.Refusal;
import jakarta.enterprise.inject.Instance;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.ext.Provider;
import jakarta.ws.rs.ext.ReaderInterceptor;
import jakarta.ws.rs.ext.ReaderInterceptorContext;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * JSON request bodies (export requests) are small: one declared over {@code
 * tsm.http.max-json-body-size} is refused before it is read, and one without a length is stopped
 * where it passes the limit, so that no body is parsed whole into memory whatever its size.
 */
@Provider
public class JsonBodyLimit implements ReaderInterceptor {
  // Interceptors are made at build time, before the runtime configuration exists: read it later.
  private final Instance<Config> config;

  JsonBodyLimit(Instance<Config> config) {
    this.config = config;
  }

  @Override
  public Object aroundReadFrom(ReaderInterceptorContext context) throws IOException {
    if (!MediaType.APPLICATION_JSON_TYPE.isCompatible(context.getMediaType())) {
      return context.proceed();
    }
    long max = config.get().http().maxJsonBodySize().asLongValue();
    String length = context.getHeaders().getFirst("Content-Length");
    if (length != null && declared(length) > max) {
      throw tooLarge(max);
    }
    context.setInputStream(new Bounded(context.getInputStream(), max));
    try {
      return context.proceed();
    } catch (IOException | RuntimeException e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof Bounded.PastLimit) {
          throw tooLarge(max);
        }
      }
      throw e;
    }
  }

  private static Refusal tooLarge(long max) {
    return Refusal.tooLarge(
        "the JSON body is larger than the limit of "
            + max
            + " bytes (tsm.http.max-json-body-size)");
  }

  private static long declared(String length) {
    try {
      return Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** A stream that fails once more than {@code max} bytes were read from it. */
  private static final class Bounded extends FilterInputStream {
    /** An IOException, which the JSON reader passes on (maybe wrapped) rather than parse. */
    static final class PastLimit extends IOException {
      PastLimit() {
        super("the body passed its size limit");
      }
    }

    private long left;

    Bounded(InputStream in, long max) {
      super(in);
      this.left = max;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0 && --left < 0) {
        throw new PastLimit();
      }
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = super.read(buf, off, (int) Math.min(len, Math.max(1, left + 1)));
      if (n > 0 && (left -= n) < 0) {
        throw new PastLimit();
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(Math.min(n, Math.max(1, left + 1)));
      if ((left -= skipped) < 0) {
        throw new PastLimit();
      }
      return skipped;
    }

    @Override
    public boolean markSupported() {
      return false;
    }
  }
}
