// Calls to Hubbub's JSON API with the page's session cookie and CSRF token.

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || {};
  }
}

export class Api {
  constructor(root, csrfToken) {
    this.root = root;
    this.csrfToken = csrfToken;
  }

  // Rejects with ApiError for an error answer, TypeError when the server cannot be reached,
  // and the signal's reason when it is aborted.
  async call(method, path, body, signal) {
    const headers = { Accept: "application/json" };
    const options = { method, headers, credentials: "same-origin", signal };
    if (method !== "GET") headers["X-CSRFToken"] = this.csrfToken;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(this.root + path, options);
    if (response.status === 204) return null;
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      // An answer that is not JSON (a proxy's error page) still gets a readable error below.
    }
    if (!response.ok) {
      const error = (answer && answer.error) || {};
      throw new ApiError(
        response.status,
        error.code || "error",
        error.message || `The server answered ${response.status}.`,
        error.fields,
      );
    }
    return answer;
  }

  // One file as POST /uploads (multipart), through XMLHttpRequest: fetch() tells nothing of an
  // upload's progress. progress(bytesSent) as it goes; started(xhr) to abort it (which rejects
  // with an AbortError). Resolves with the attachment.
  upload(file, { progress, started } = {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `${this.root}/uploads`);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", this.csrfToken);
      xhr.responseType = "json";
      xhr.upload.addEventListener("progress", (event) => progress?.(event.loaded));
      xhr.addEventListener("load", () => {
        const error = xhr.response?.error || {};
        if (xhr.status === 201) resolve(xhr.response.attachment);
        else {
          reject(new ApiError(xhr.status, error.code || "error",
            error.message || `The server answered ${xhr.status}.`, error.fields));
        }
      });
      xhr.addEventListener("error", () => reject(new TypeError("The upload did not get through.")));
      xhr.addEventListener("abort", () => reject(new DOMException("Removed", "AbortError")));
      const form = new FormData();
      form.append("file", file, file.name || "pasted image");
      xhr.send(form);
      started?.(xhr);
    });
  }

  get(path) { return this.call("GET", path); }
  post(path, body, signal) {
    return this.call("POST", path, body === undefined ? {} : body, signal);
  }
  patch(path, body) { return this.call("PATCH", path, body); }
  put(path) { return this.call("PUT", path); }
  delete(path) { return this.call("DELETE", path); }
}

// Builds an API path from fixed parts and ids, never from unchecked text.
export function path(strings, ...values) {
  return strings.reduce(
    (out, part, i) => out + part + (i < values.length ? encodeURIComponent(values[i]) : ""),
    "",
  );
}

// What to tell a person about a failed call.
export function describe(error) {
  if (error instanceof ApiError) {
    // "That message is too long." says what; the field's detail says by how much.
    const details = Object.values(error.fields).filter((text) => typeof text === "string");
    return [error.message, ...details].join(" ");
  }
  return "Hubbub cannot be reached. Check your connection and try again.";
}
