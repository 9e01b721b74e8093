#!/usr/bin/env python3
"""make_cases.py: write the labelled N+1 cases in tests/nplus1/cases/.

Each case is a crafted server log (NN_name.log in stderr format with the
default prefix '%m [%p] ' or another one, or NN_name.csv in csvlog format)
and NN_name.expect: the first line is "finding" or "none"; further lines
"key value" are checked against analyze's JSON ("occurrences", "repeats_max",
"repeats_total" of the top finding; "unparsed_lines", "truncated",
"statements" of the report; "args" adds options).  The files are checked in;
run this again only to change them:  python3 tests/nplus1/make_cases.py
"""
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
BASE_MS = 1795000000000  # 2026-11-18


def ts(ms):
    import datetime
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (ms % 1000)


class Log:
    """Collects entries (session, kind, text, params, duration) in order."""

    def __init__(self):
        self.t = BASE_MS
        self.rows = []

    def tick(self, ms=1):
        self.t += ms

    def stmt(self, sess, sql, params=None, dur=None, proto="simple", gap=1):
        self.tick(gap)
        self.rows.append((self.t, sess, proto, sql, params, dur))

    def raw(self, text):
        self.rows.append((None, None, "raw", text, None, None))


def stderr_text(log, prefix="%m [%p] "):
    out = []
    for (t, sess, proto, sql, params, dur) in log.rows:
        if proto == "raw":
            out.append(sql)
            continue
        pid = str(sess)
        pre = prefix.replace("%m", ts(t) + " UTC").replace("%p", pid) \
            .replace("%c", "6560a1b2.%x" % sess).replace("%t", ts(t)[:19] + " UTC")
        body_sql = sql.replace("\n", "\n\t")
        if proto == "simple":
            head = ("duration: %.3f ms  statement: " % dur) if dur is not None else "statement: "
            out.append(pre + "LOG:  " + head + body_sql)
        else:
            head = ("duration: %.3f ms  execute S_1: " % dur) if dur is not None else "execute <unnamed>: "
            out.append(pre + "LOG:  " + head + body_sql)
            if params:
                out.append(pre + "DETAIL:  parameters: " + params)
    return "\n".join(out) + "\n"


def csvq(s):
    return '"' + s.replace('"', '""') + '"'


def csv_text(log):
    out = []
    for (t, sess, proto, sql, params, dur) in log.rows:
        if proto == "raw":
            out.append(sql)
            continue
        sid = "6560a1b2.%x" % sess
        if proto == "simple":
            msg = (("duration: %.3f ms  statement: " % dur) if dur is not None else "statement: ") + sql
            detail = ""
        else:
            msg = (("duration: %.3f ms  execute S_1: " % dur) if dur is not None else "execute S_1: ") + sql
            detail = csvq("parameters: " + params) if params else ""
        fields = [ts(t) + " UTC", "app", "shop", str(sess), "[local]", sid, "1", "SELECT",
                  ts(BASE_MS) + " UTC", "3/1", "0", "LOG", "00000", csvq(msg), detail,
                  "", "", "", "", "", "", "", csvq("psql"), "client backend", "", "0"]
        out.append(",".join(fields))
    return "\n".join(out) + "\n"


def write(name, text, expect):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text)
    base = name.rsplit(".", 1)[0]
    with open(os.path.join(HERE, base + ".expect"), "w") as f:
        f.write(expect.strip() + "\n")


LIST = "SELECT id, name FROM orders WHERE customer_id = 42 ORDER BY id LIMIT 20"
ITEM = "SELECT * FROM order_items WHERE order_id = %d"


def nplus1(log, sess, n=10, proto="simple", start=100, dur=None, list_sql=LIST):
    log.stmt(sess, list_sql, dur=dur, proto="simple" if proto == "simple" else proto,
             params="$1 = '42'" if proto != "simple" else None)
    for i in range(n):
        if proto == "simple":
            log.stmt(sess, ITEM % (start + i), dur=dur)
        else:
            log.stmt(sess, "SELECT * FROM order_items WHERE order_id = $1",
                     params="$1 = '%d'" % (start + i), proto=proto, dur=dur)


def main():
    os.makedirs(HERE, exist_ok=True)
    for f in os.listdir(HERE):
        os.unlink(os.path.join(HERE, f))

    # ---- findings
    lg = Log()
    nplus1(lg, 101)
    write("01_stderr_simple.log", stderr_text(lg),
          "finding\noccurrences 1\nrepeats_max 10\nrepeats_total 10\nstatements 11")

    lg = Log()
    nplus1(lg, 102, n=8, proto="extended")
    write("02_stderr_extended.log", stderr_text(lg), "finding\noccurrences 1\nrepeats_max 8")

    lg = Log()
    lg.stmt(103, "BEGIN")
    nplus1(lg, 103)
    lg.stmt(103, "COMMIT")
    lg.stmt(103, "BEGIN")
    nplus1(lg, 103, start=300)
    lg.stmt(103, "COMMIT")
    write("03_csv_transactions.csv", csv_text(lg), "finding\noccurrences 2\nrepeats_total 20")

    lg = Log()
    nplus1(lg, 104, n=6, proto="extended")
    write("04_csv_extended.csv", csv_text(lg), "finding\noccurrences 1\nrepeats_max 6")

    lg = Log()
    nplus1(lg, 105, dur=0.25)
    write("05_stderr_durations.log", stderr_text(lg), "finding\noccurrences 1\nrepeats_max 10\ntime_ms 2.5")

    lg = Log()
    for i in range(12):      # two sessions interleaved line by line
        if i == 0:
            lg.stmt(106, LIST)
            lg.stmt(107, LIST)
            continue
        lg.stmt(106, ITEM % (10 + i))
        lg.stmt(107, ITEM % (20 + i))
    write("06_stderr_interleaved_session_id.log", stderr_text(lg, "%m [%p] %c "),
          "finding\noccurrences 2\nrepeats_max 11")

    lg = Log()
    lg.stmt(108, "SELECT id\nFROM orders\nWHERE customer_id = 42\nORDER BY id")
    for i in range(7):
        lg.stmt(108, "SELECT *\n  FROM order_items\n WHERE order_id = %d\n   AND deleted = false" % (500 + i))
    write("07_stderr_multiline.log", stderr_text(lg), "finding\noccurrences 1\nrepeats_max 7")

    lg = Log()
    lg.stmt(109, "SELECT id FROM workflow_runs ORDER BY started_at DESC LIMIT 10")
    for r in range(10):
        lg.stmt(109, "SELECT id FROM task_executions WHERE run_id = %d" % r)
        lg.stmt(109, "SELECT attrs FROM task_attrs WHERE task_id = %d" % (r * 7))
    write("08_stderr_nested.log", stderr_text(lg), "finding\noccurrences 1\nrepeats_max 10")

    lg = Log()
    lg.stmt(110, "SELECT email FROM customers WHERE region = 'north'")
    for i in range(9):
        lg.stmt(110, "SELECT count(*) FROM logins WHERE email = 'user%d@example.com'" % i)
    write("09_csv_string_literals.csv", csv_text(lg), "finding\noccurrences 1\nrepeats_max 9")

    lg = Log()
    lg.stmt(111, "SELECT id FROM accounts WHERE overdue")
    for i in range(6):
        lg.stmt(111, "UPDATE accounts SET flagged = true WHERE id = %d" % (i + 1))
    write("10_stderr_update_loop.log", stderr_text(lg), "finding\noccurrences 1\nrepeats_max 6")

    lg = Log()
    for i in range(8):
        if i == 0:
            lg.stmt(112, LIST)
        else:
            lg.stmt(112, ITEM % (700 + i))
        lg.stmt(113, "SELECT now()")
    lg.stmt(112, ITEM % 999)
    write("11_csv_interleaved.csv", csv_text(lg), "finding\noccurrences 1\nrepeats_max 8")

    lg = Log()
    nplus1(lg, 114, n=5)
    write("12_stderr_exactly_k.log", stderr_text(lg), "finding\noccurrences 1\nrepeats_max 5")

    lg = Log()
    lg.stmt(115, LIST)
    for i in range(8):
        lg.stmt(115, ITEM % (40 + i))
        if i == 3:
            lg.raw("this line is not a log line at all")
            lg.raw("2026-11-18 00:00:00.000 UTC [115] no severity here")
    text = stderr_text(lg) + "2026-11-18 00:00:09.999 UTC [115] LOG:  statement: SELECT * FROM order_it"
    write("13_stderr_malformed_truncated.log", text,
          "finding\noccurrences 1\nrepeats_max 8\nunparsed_lines 2\ntruncated true")

    lg = Log()
    lg.stmt(116, "SELECT id FROM carts WHERE abandoned")
    for i in range(7):
        lg.stmt(116, "INSERT INTO reminders (cart_id, kind) VALUES (%d, 'email')" % i)
    write("14_csv_insert_loop.csv", csv_text(lg), "finding\noccurrences 1\nrepeats_max 7")

    lg = Log()
    lg.stmt(117, LIST)
    for i in range(6):
        lg.stmt(117, "SELECT note FROM order_notes WHERE order_id = %d AND body = 'line one\nline two, \"quoted\"'" % i)
    csvt = csv_text(lg)
    csvt = csvt + '2026-11-18 00:00:01.000 UTC,app,shop,117,"[local],6560a1b2.75,1,SELECT\n'
    write("15_csv_quoted_newlines_truncated.csv", csvt,
          "finding\noccurrences 1\nrepeats_max 6\ntruncated true")

    # ---- no findings
    lg = Log()
    lg.stmt(201, LIST)
    lg.stmt(201, "SELECT * FROM order_items WHERE order_id = ANY('{100,101,102,103,104,105,106,107,108,109}'::int[])")
    write("16_stderr_batched_any.log", stderr_text(lg), "none")

    lg = Log()
    lg.stmt(202, "SELECT o.id, i.* FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.customer_id = 42")
    write("17_csv_join.csv", csv_text(lg), "none")

    lg = Log()
    nplus1(lg, 203, n=4)
    write("18_stderr_below_threshold.log", stderr_text(lg), "none")

    lg = Log()
    lg.stmt(204, LIST)
    for i in range(10):
        lg.stmt(204, ITEM % 100)
    write("19_stderr_same_parameters.log", stderr_text(lg), "none")

    lg = Log()
    for i in range(10):     # request after request: the whole sequence repeats
        lg.stmt(205, "SELECT user_id FROM sessions WHERE token = 'tok%d'" % i)
        lg.stmt(205, "SELECT * FROM users WHERE id = %d" % i)
        lg.stmt(205, "SELECT * FROM carts WHERE user_id = %d" % i)
    write("20_stderr_request_repetition.log", stderr_text(lg), "none")

    lg = Log()
    for s in range(5):      # two lookups per session
        lg.stmt(300 + s, LIST)
        lg.stmt(300 + s, ITEM % (s * 2))
        lg.stmt(300 + s, ITEM % (s * 2 + 1))
    write("21_csv_spread_over_sessions.csv", csv_text(lg), "none")

    lg = Log()
    lg.stmt(206, LIST)
    for i in range(10):     # one lookup every 2 s: separate units
        lg.stmt(206, ITEM % i, gap=2000)
    write("22_stderr_idle_gaps.log", stderr_text(lg), "none")

    lg = Log()
    lg.stmt(207, "BEGIN")
    nplus1(lg, 207, n=3)
    lg.stmt(207, "COMMIT")
    lg.stmt(207, "BEGIN")
    for i in range(3):
        lg.stmt(207, ITEM % (900 + i))
    lg.stmt(207, "COMMIT")
    write("23_csv_split_transactions.csv", csv_text(lg), "none")

    lg = Log()
    lg.stmt(208, LIST)
    for i in range(8):      # lookups separated by 20 other statements each
        lg.stmt(208, ITEM % i)
        for k in range(20):
            lg.stmt(208, "SELECT pg_sleep(0) /* %d */" % k)
    write("24_stderr_far_apart.log", stderr_text(lg), "none")

    lg = Log()
    lg.stmt(209, LIST, params="$1 = '42'", proto="extended")
    for i in range(10):     # extended protocol, the same parameter every time
        lg.stmt(209, "SELECT * FROM order_items WHERE order_id = $1", params="$1 = '7'", proto="extended")
    write("25_csv_extended_same_parameters.csv", csv_text(lg), "none")

    lg = Log()
    lg.stmt(210, LIST)
    for i in range(5):
        lg.stmt(210, ITEM % i)
    write("26_stderr_min_repeats_option.log", stderr_text(lg), "none\nargs --nplus1-min-repeats 6")


if __name__ == "__main__":
    main()
