/*
 * gen_log.c
 *		Generate a synthetic PostgreSQL server log for the analyze
 *		benchmark (bench/analyze_bench.sh): csvlog or stderr
 *		('%m [%p] ' prefix), log_min_duration_statement = 0 style.
 *
 *	  gen_log BYTES [csvlog|stderr] [SEED] > file
 *
 * 64 sessions interleave record by record.  Each runs units: an N+1 loop
 * (a list query then 8 to 12 lookups by id, simple or extended protocol
 * with a "parameters:" detail), its batched form, or a few statements from
 * a mix of templates with literals, sometimes inside BEGIN/COMMIT.  Some
 * statements span lines.  Deterministic for a seed.  Output stops at the
 * first record boundary past BYTES.
 *
 * Memory: a 1 MB output buffer.  Test helper: not part of perfdriver.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NSESS 64

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t	z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

struct sess
{
	int			pid;
	int			step;			/* position in the current unit */
	int			kind;			/* 0 n+1, 1 batched, 2 mix */
	int			len;
	int			ext;			/* extended protocol */
	int			txn;
	int64_t		base;
};

static const char *const mix[] = {
	"SELECT id, email, created_at FROM customers WHERE email = 'user%" PRId64 "@example.com'",
	"UPDATE carts SET updated_at = now(), total = %" PRId64 ".50 WHERE id = %" PRId64,
	"INSERT INTO events (kind, payload) VALUES ('click', '{\"n\": %" PRId64 "}')",
	"SELECT count(*) FROM orders WHERE status = 'open' AND region_id = %" PRId64,
	"SELECT p.id, p.name, p.price FROM products p JOIN stock s ON s.product_id = p.id WHERE s.qty > %" PRId64 " ORDER BY p.price LIMIT 50",
	"DELETE FROM sessions WHERE expires_at < now() - interval '%" PRId64 " minutes'",
};

int
main(int argc, char **argv)
{
	int64_t		target;
	int			csv;
	static char obuf[1 << 20];
	static char sql[4096];
	static char rec[8192];
	struct sess s[NSESS];
	int64_t		written = 0;
	int64_t		t_us = 1795000000000000LL;	/* 2026-11-18, microseconds */

	if (argc < 2)
	{
		fprintf(stderr, "usage: gen_log BYTES [csvlog|stderr] [SEED]\n");
		return 2;
	}
	target = strtoll(argv[1], NULL, 10);
	csv = argc < 3 || strcmp(argv[2], "stderr") != 0;
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 42;
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	for (int i = 0; i < NSESS; i++)
	{
		s[i].pid = 10000 + i;
		s[i].step = 0;
		s[i].len = 0;
	}

	while (written < target)
	{
		struct sess *x = &s[rnd() % NSESS];
		const char *param = NULL;
		char		pbuf[64];
		int			n;
		double		dur;
		time_t		secs;
		struct tm	tm;
		char		tsbuf[64];
		int			ismeta = 0;

		if (x->step >= x->len)
		{
			uint64_t	r = rnd() % 10;

			x->kind = r < 3 ? 0 : r < 4 ? 1 : 2;
			x->len = x->kind == 0 ? 1 + 8 + (int) (rnd() % 5) : x->kind == 1 ? 2 : 1 + (int) (rnd() % 4);
			x->ext = (rnd() % 2) == 0;
			x->txn = (rnd() % 4) == 0;
			if (x->txn)
				x->len += 2;
			x->base = (int64_t) (rnd() % 1000000);
			x->step = 0;
		}
		n = x->step - (x->txn ? 1 : 0);
		if (x->txn && x->step == 0)
		{
			snprintf(sql, sizeof(sql), "BEGIN");
			ismeta = 1;
		}
		else if (x->txn && x->step == x->len - 1)
		{
			snprintf(sql, sizeof(sql), "COMMIT");
			ismeta = 1;
		}
		else if (x->kind == 0 || x->kind == 1)
		{
			if (n == 0)
				snprintf(sql, sizeof(sql),
						 "SELECT id, status, total\n  FROM orders\n WHERE customer_id = %" PRId64 "\n ORDER BY id DESC LIMIT 12",
						 x->base);
			else if (x->kind == 1)
				snprintf(sql, sizeof(sql),
						 "SELECT * FROM order_items WHERE order_id = ANY('{%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "}'::bigint[])",
						 x->base, x->base + 1, x->base + 2, x->base + 3);
			else if (x->ext)
			{
				snprintf(sql, sizeof(sql), "SELECT * FROM order_items WHERE order_id = $1");
				snprintf(pbuf, sizeof(pbuf), "$1 = '%" PRId64 "'", x->base * 13 + n);
				param = pbuf;
			}
			else
				snprintf(sql, sizeof(sql), "SELECT * FROM order_items WHERE order_id = %" PRId64,
						 x->base * 13 + n);
		}
		else
		{
			int			m = (int) (rnd() % (sizeof(mix) / sizeof(mix[0])));
			int64_t		v = (int64_t) (rnd() % 100000);

			snprintf(sql, sizeof(sql), mix[m], v, v + 7);
		}
		x->step++;

		t_us += 20 + (int64_t) (rnd() % 60);
		dur = (double) (rnd() % 5000) / 1000.0;
		secs = (time_t) (t_us / 1000000);
		gmtime_r(&secs, &tm);
		strftime(tsbuf, sizeof(tsbuf), "%Y-%m-%d %H:%M:%S", &tm);
		if (csv)
		{
			/* the message, csv-quoted */
			char		msg[4608];
			char		q[9300];
			char	   *o = q;

			snprintf(msg, sizeof(msg), "duration: %.3f ms  %s: %s", dur,
					 param ? "execute S_1" : "statement", sql);
			*o++ = '"';
			for (const char *p = msg; *p; p++)
			{
				if (*p == '"')
					*o++ = '"';
				*o++ = *p;
			}
			*o++ = '"';
			*o = '\0';
			n = snprintf(rec, sizeof(rec),
						 "%s.%03d UTC,app,shop,%d,\"[local]\",6560a1b2.%x,%d,%s,2026-11-18 00:00:00 UTC,3/%d,0,LOG,00000,%s,%s%s%s,,,,,,,,\"app\",client backend,,0\n",
						 tsbuf, (int) ((t_us / 1000) % 1000), x->pid, x->pid, x->step,
						 ismeta ? "BEGIN" : "SELECT", x->pid, q,
						 param ? "\"parameters: " : "", param ? param : "", param ? "\"" : "");
		}
		else
		{
			char		body[4608];
			char	   *o = body;

			/* continuation lines start with a tab */
			for (const char *p = sql; *p; p++)
			{
				*o++ = *p;
				if (*p == '\n')
					*o++ = '\t';
			}
			*o = '\0';
			n = snprintf(rec, sizeof(rec), "%s.%03d UTC [%d] LOG:  duration: %.3f ms  %s: %s\n",
						 tsbuf, (int) ((t_us / 1000) % 1000), x->pid, dur,
						 param ? "execute S_1" : "statement", body);
			if (param && n > 0 && n < (int) sizeof(rec) - 200)
				n += snprintf(rec + n, sizeof(rec) - n, "%s.%03d UTC [%d] DETAIL:  parameters: %s\n",
							  tsbuf, (int) ((t_us / 1000) % 1000), x->pid, param);
		}
		if (n <= 0 || n >= (int) sizeof(rec))
			continue;
		fwrite(rec, 1, n, stdout);
		written += n;
	}
	fflush(stdout);
	return 0;
}
