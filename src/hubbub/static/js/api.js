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
