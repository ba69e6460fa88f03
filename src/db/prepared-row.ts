// One execution of a named prepared statement whose answer is a single row of text columns, sent the lean way:
// Bind, Execute and Sync (and Parse the first time on a connection), with no Describe — the caller knows the
// columns — and the row handed back as the strings that came over the wire.
//
// node-postgres's general path also describes every result, builds a Query and a Result object and runs a type
// parser per column. The posting engine runs one statement per batch on its own connections, and in the payments
// benchmark that general machinery was about a tenth of the app's CPU per payment — CPU that sits on every
// payment's path. This uses node-postgres's documented extension point for custom queries (a "submittable", as
// pg-cursor does); errors and lost connections arrive exactly as for an ordinary query.
import type pg from "pg";

/** A named statement: parsed once per connection, then executed by name. */
export interface NamedStatement {
  name: string;
  text: string;
}

/** The parts of node-postgres's connection a submittable drives (see pg's Query.prepare). */
interface Wire {
  stream: { cork?: () => void; uncork?: () => void };
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  parse(config: { name: string; text: string }): void;
  bind(config: { statement: string; values: (string | null)[] }): void;
  execute(config: Record<string, never>): void;
  sync(): void;
  sendCopyFail(message: string): void;
}

class PreparedRow {
  readonly name: string;
  readonly text: string;
  readonly answer: Promise<(string | null)[] | null>;
  private row: (string | null)[] | null = null;
  private settle!: { resolve: (row: (string | null)[] | null) => void; reject: (e: unknown) => void };

  constructor(
    statement: NamedStatement,
    private readonly values: (string | null)[],
  ) {
    this.name = statement.name;
    this.text = statement.text;
    this.answer = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  /** Called by the client when it is this query's turn. */
  submit(wire: Wire): Error | null {
    const known = wire.parsedStatements[this.name] ?? wire.submittedNamedStatements[this.name];
    if (known !== undefined && known !== this.text) {
      return new Error(`prepared statement ${this.name} was used for a different text`);
    }
    wire.stream.cork?.(); // one write for the whole message sequence
    try {
      if (known === undefined) {
        wire.parse({ name: this.name, text: this.text });
        wire.submittedNamedStatements[this.name] = this.text;
      }
      wire.bind({ statement: this.name, values: this.values });
      wire.execute({});
      wire.sync();
    } finally {
      wire.stream.uncork?.();
    }
    return null;
  }

  handleDataRow(msg: { fields: (string | null)[] }) {
    this.row ??= msg.fields;
  }

  /** A statement error (the client then waits for the server's ReadyForQuery itself) or a lost connection. */
  handleError(err: unknown) {
    this.settle.reject(err);
  }

  handleReadyForQuery() {
    this.settle.resolve(this.row);
  }

  // Messages this statement never causes; present because the client may call them.
  handleRowDescription() {}
  handleCommandComplete() {}
  handleEmptyQuery() {}
  handlePortalSuspended() {}
  handleCopyData() {}
  handleCopyInResponse(wire: Wire) {
    wire.sendCopyFail("not expected");
  }
}

/**
 * Runs `statement` with `values` (text, or null for NULL) on `client`, answering the first row's columns as text
 * (null for a NULL column), or null when the statement returned no row.
 */
export function queryPreparedRow(
  client: Pick<pg.ClientBase, "query">,
  statement: NamedStatement,
  values: (string | null)[],
): Promise<(string | null)[] | null> {
  const q = new PreparedRow(statement, values);
  (client as unknown as { query(q: PreparedRow): unknown }).query(q);
  return q.answer;
}
