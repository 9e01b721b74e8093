/*
 * sketch_binary_client.c
 *		Push random and mutated sketch encodings through every decoder the
 *		server has, over libpq, and check that each one is either accepted
 *		(and usable) or rejected with a fitting SQLSTATE.
 *
 * Decoder paths, each one test case:
 *	- recv:  binary parameter of type perfstore.sketch (sketch_recv)
 *	- text:  text parameter cast to perfstore.sketch (sketch_in)
 *	- bytea: binary bytea parameter cast to perfstore.sketch
 *	  (sketch_from_bytea)
 * plus binary round trips of perfstore.sketch and perfstore.stats and
 * mutated perfstore.stats encodings (stats_recv).
 *
 * Seeds are valid sketches the server builds from several data sets,
 * fetched in binary and in text.  A fixed PRNG seed makes every run push the
 * same inputs.  A rejection must be an ERROR with SQLSTATE 22P02, 22P03,
 * 22023 or 22003; anything else, a lost connection above all, is a failure
 * printed with the input in hex.  An accepted input must give a row from
 * the quantile query and survive a text and bytea round trip unchanged.
 *
 * Usage: sketch_binary_client DBNAME [INPUTS_PER_PATH [PRNG_SEED]]
 * The other connection parameters come from the PG* environment.  Prints
 * "ok N - ..." / "not ok N - ..." lines and, last, "sketch_binary_client:
 * N passed, N failed" (tests/unit/unit.h); exits 1 on any failure, 2 when
 * it cannot start.  Built by tests/unit/unit.mk.
 *
 * Memory: everything is malloc'd; input buffers are reused across
 * iterations and the process exits without freeing the seeds.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "unit.h"

#define BYTEA_OID			17
#define MAX_INPUT			(2 * 1024 * 1024)
#define MAX_PRINTED_FAILURES 10
#define MAX_HEX_PRINTED		4096

/* SQLSTATEs a malformed input may be rejected with. */
static const char *const allowed_states[] = {
	"22P02",					/* invalid_text_representation */
	"22P03",					/* invalid_binary_representation */
	"22023",					/* invalid_parameter_value */
	"22003",					/* numeric_value_out_of_range */
};
#define N_ALLOWED	(sizeof(allowed_states) / sizeof(allowed_states[0]))

static PGconn *conn;
static const char *dbname;

/* ----------------------------------------------------------------
 * PRNG: splitmix64, fixed seed so that runs are reproducible.
 * ----------------------------------------------------------------
 */
static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	uint64_t	z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n must be > 0. */
static size_t
rng_below(size_t n)
{
	return (size_t) (rng_next() % n);
}

/* true with probability 1/n */
static bool
rng_one_in(size_t n)
{
	return rng_below(n) == 0;
}

/* ----------------------------------------------------------------
 * Byte buffers
 * ----------------------------------------------------------------
 */
typedef struct buffer
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
} buffer;

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		fprintf(stderr, "sketch_binary_client: out of memory\n");
		exit(2);
	}
	return p;
}

static void
buf_reserve(buffer *b, size_t n)
{
	if (n + 1 <= b->cap)
		return;
	b->cap = (n + 1) * 2;
	b->data = realloc(b->data, b->cap);
	if (b->data == NULL)
	{
		fprintf(stderr, "sketch_binary_client: out of memory\n");
		exit(2);
	}
}

static void
buf_set(buffer *b, const uint8_t *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data, p, n);
	b->len = n;
	b->data[n] = 0;
}

/* Insert n bytes at pos (pos <= len); p may point into b itself. */
static void
buf_insert(buffer *b, size_t pos, const uint8_t *p, size_t n)
{
	uint8_t    *tmp;

	if (b->len + n > MAX_INPUT)
		return;
	tmp = xmalloc(n);
	memcpy(tmp, p, n);
	buf_reserve(b, b->len + n);
	memmove(b->data + pos + n, b->data + pos, b->len - pos);
	memcpy(b->data + pos, tmp, n);
	b->len += n;
	b->data[b->len] = 0;
	free(tmp);
}

static void
buf_delete(buffer *b, size_t pos, size_t n)
{
	if (pos >= b->len)
		return;
	if (n > b->len - pos)
		n = b->len - pos;
	memmove(b->data + pos, b->data + pos + n, b->len - pos - n);
	b->len -= n;
	b->data[b->len] = 0;
}

/* Print the first MAX_HEX_PRINTED bytes of p in hex on one line. */
static void
print_hex(const char *label, const uint8_t *p, size_t n)
{
	size_t		shown = n < MAX_HEX_PRINTED ? n : MAX_HEX_PRINTED;

	printf("    %s (%zu bytes, hex%s): ", label, n,
		   shown < n ? ", truncated" : "");
	for (size_t i = 0; i < shown; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* ----------------------------------------------------------------
 * Test reporting
 * ----------------------------------------------------------------
 */
/* Every case is one named check of tests/unit/unit.h. */
#define report unit_report

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ----------------------------------------------------------------
 * Connection
 * ----------------------------------------------------------------
 */

/* A new connection to dbname, or NULL (the error is printed). */
static PGconn *
connect_db(void)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *values[] = {dbname, "sketch_binary_client", NULL};
	PGconn	   *c = PQconnectdbParams(keys, values, 0);

	if (PQstatus(c) != CONNECTION_OK)
	{
		printf("    could not connect: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/*
 * Keep the thousands of expected rejections out of the server log (the
 * client reports what matters); needs superuser, so a failure is ignored.
 * Crash reports come from the postmaster and are logged regardless.
 */
static void
quiet_log(void)
{
	PQclear(PQexec(conn, "SET log_min_messages = fatal"));
	PQclear(PQexec(conn, "SET log_min_error_statement = panic"));
}

/*
 * After a lost connection: wait up to 30 s for the server (it restarts
 * after a backend crash) and reconnect.  Returns false if it never answers.
 */
static bool
reconnect(void)
{
	PQfinish(conn);
	conn = NULL;
	for (int i = 0; i < 60; i++)
	{
		usleep(500 * 1000);
		conn = connect_db();
		if (conn != NULL)
		{
			quiet_log();
			return true;
		}
	}
	printf("    the server does not answer any more\n");
	return false;
}

/* Run a query with no parameters and text results; exit 2 on error. */
static PGresult *
must_exec(const char *sql, int result_format)
{
	PGresult   *r = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL,
								 result_format);

	if (PQresultStatus(r) != PGRES_TUPLES_OK &&
		PQresultStatus(r) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "sketch_binary_client: query failed: %s\n%s",
				sql, PQerrorMessage(conn));
		unit_report(false, "setup query failed");
		exit(UNIT_DONE("sketch_binary_client") + 1);
	}
	return r;
}

static unsigned int
lookup_oid(const char *type)
{
	char		sql[200];
	PGresult   *r;
	unsigned int oid;

	snprintf(sql, sizeof(sql), "SELECT '%s'::regtype::oid", type);
	r = must_exec(sql, 0);
	oid = (unsigned int) strtoul(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return oid;
}

/* ----------------------------------------------------------------
 * Seeds
 * ----------------------------------------------------------------
 */
typedef struct seed
{
	const char *name;
	uint8_t    *bin;			/* binary (send) form */
	size_t		binlen;
	char	   *text;			/* text form */
	size_t		textlen;
} seed;

/* Data sets; each query returns one sketch column s. */
static const struct
{
	const char *name;
	const char *sql;
} seed_sets[] = {
	{"lognormal",
		"SELECT perfstore.sketch_agg(exp(1 + 1.5 * sqrt(-2 * ln(1 - random()))"
		" * cos(2 * pi() * random()))) FROM generate_series(1, 5000)"},
	{"lognormal alpha 0.001",
		"SELECT perfstore.sketch_agg(exp(sqrt(-2 * ln(1 - random()))"
		" * cos(2 * pi() * random())), 0.001) FROM generate_series(1, 3000)"},
	{"mixed sign with zeros",
		"SELECT perfstore.sketch_agg(CASE WHEN g % 5 = 0 THEN 0"
		" ELSE (random() - 0.5) * 2000 END) FROM generate_series(1, 2000) g"},
	{"constant",
		"SELECT perfstore.sketch_agg(42.0::float8) FROM generate_series(1, 1000)"},
	{"single value",
		"SELECT perfstore.sketch_agg(3.25::float8)"},
	{"only zeros",
		"SELECT perfstore.sketch_agg(0.0::float8) FROM generate_series(1, 10)"},
	{"all negative",
		"SELECT perfstore.sketch_agg(-1 - random() * 1e6)"
		" FROM generate_series(1, 500)"},
	{"tiny and huge",
		"SELECT perfstore.sketch_agg(CASE WHEN g % 2 = 0 THEN 1e-9 * (1 + random())"
		" ELSE 1e12 * (1 + random()) END) FROM generate_series(1, 400) g"},
	{"alpha 0.1",
		"SELECT perfstore.sketch_agg(random() * 100, 0.1)"
		" FROM generate_series(1, 300)"},
	{"collapsed wide range",
		"SELECT perfstore.sketch_agg(power(10, g / 10.0)::float8)"
		" FROM generate_series(-3000, 3000) g"},
	{"collapsed wide range both signs alpha 0.0001",
		"SELECT perfstore.sketch_agg((CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END)"
		" * power(10, g / 10.0)::float8, 0.0001) FROM generate_series(-3000, 3000) g"},
	{"empty (count 0, from text)",
		"SELECT '{\"version\":1,\"alpha\":0.001,\"max_buckets\":20480,\"count\":0,"
		"\"min\":null,\"max\":null,\"sum\":\"0\",\"zero\":0,\"positive\":null,"
		"\"negative\":null}'::perfstore.sketch"},
	{"carried quantiles (as in approx_percentile states, from text)",
		"SELECT (rtrim(perfstore.sketch_agg(exp(random() * 6))::text, '}')"
		" || ',\"quantiles\":[0.5,0.9,0.99,1]}')::perfstore.sketch"
		" FROM generate_series(1, 500)"},
	{"collapsed wide range alpha 0.0001",
		"SELECT perfstore.sketch_agg(power(10, g / 10.0)::float8, 0.0001)"
		" FROM generate_series(-3000, 3000) g"},
};
#define N_SEEDS		(sizeof(seed_sets) / sizeof(seed_sets[0]))

static seed seeds[N_SEEDS];

/* Fetch every seed in binary and in text form. */
static void
fetch_seeds(void)
{
	PQclear(must_exec("SELECT setseed(0.4242)", 0));
	for (size_t i = 0; i < N_SEEDS; i++)
	{
		char		sql[1024];
		PGresult   *r;

		/* one aggregate, fetched twice through a CTE */
		snprintf(sql, sizeof(sql),
				 "WITH x(s) AS MATERIALIZED (%s) SELECT s, s::text FROM x",
				 seed_sets[i].sql);
		r = must_exec(sql, 1);
		if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
		{
			fprintf(stderr, "sketch_binary_client: seed %s is empty\n",
					seed_sets[i].name);
			exit(2);
		}
		seeds[i].name = seed_sets[i].name;
		seeds[i].binlen = PQgetlength(r, 0, 0);
		seeds[i].bin = xmalloc(seeds[i].binlen);
		memcpy(seeds[i].bin, PQgetvalue(r, 0, 0), seeds[i].binlen);
		/* column 2 is text, returned in binary format = its bytes */
		seeds[i].textlen = PQgetlength(r, 0, 1);
		seeds[i].text = xmalloc(seeds[i].textlen + 1);
		memcpy(seeds[i].text, PQgetvalue(r, 0, 1), seeds[i].textlen);
		seeds[i].text[seeds[i].textlen] = 0;
		PQclear(r);
	}
}

/*
 * Pick a seed.  Text forms above 100 kB (the alpha 0.0001 collapsed
 * sketches, ~400 kB each) are picked rarely so the text path stays fast.
 */
static const seed *
pick_seed(bool text)
{
	for (;;)
	{
		const seed *s = &seeds[rng_below(N_SEEDS)];

		if (!text || s->textlen < 100000 || rng_one_in(20))
			return s;
	}
}

/* ----------------------------------------------------------------
 * Mutations of the packed (binary) form
 * ----------------------------------------------------------------
 */
static const uint8_t interesting_bytes[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x07, 0x7f, 0x80, 0x81, 0xfe, 0xff
};

static const double interesting_doubles[] = {
	0.0, -0.0, 1.0, -1.0, 0.01, 0.0001, 0.00009, 0.1, 0.10001, 0.5, 1e308,
	-1e308, 5e-324, 2.2250738585072014e-308, 1e-300, 1e300, 4294967296.0,
	-4294967296.0, 1e19, 9.2233720368547758e18
};

/* Append a LEB128 varint. */
static size_t
encode_varint(uint64_t v, uint8_t *out)
{
	size_t		n = 0;

	while (v >= 0x80)
	{
		out[n++] = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t) v;
	return n;
}

static void
mutate_binary_once(buffer *b)
{
	size_t		pos = b->len ? rng_below(b->len) : 0;

	switch (rng_below(12))
	{
		case 0:					/* bit flip */
			if (b->len)
				b->data[pos] ^= (uint8_t) (1u << rng_below(8));
			break;
		case 1:					/* byte replacement */
			if (b->len)
				b->data[pos] = rng_one_in(2)
					? interesting_bytes[rng_below(sizeof(interesting_bytes))]
					: (uint8_t) rng_next();
			break;
		case 2:					/* truncation */
			b->len = b->len ? rng_below(b->len) : 0;
			break;
		case 3:					/* random bytes, sometimes after a valid header */
			{
				size_t		n = rng_below(rng_one_in(4) ? 600 : 48);
				uint8_t		tmp[600];

				for (size_t i = 0; i < n; i++)
					tmp[i] = (uint8_t) rng_next();
				if (n > 0 && rng_one_in(2))
					tmp[0] = 1;
				if (n > 1 && rng_one_in(2))
					tmp[1] = (uint8_t) rng_below(8);
				buf_set(b, tmp, n);
			}
			break;
		case 4:					/* duplicated segment */
			if (b->len)
			{
				size_t		start = rng_below(b->len);
				size_t		n = 1 + rng_below(b->len - start);

				buf_insert(b, rng_below(b->len + 1), b->data + start, n);
			}
			break;
		case 5:					/* a run of 0xff: an overlong or huge varint */
			{
				uint8_t		run[24];
				size_t		n = 1 + rng_below(20);

				memset(run, 0xff, n);
				if (rng_one_in(2))
					run[n++] = (uint8_t) (rng_one_in(2) ? 0x01 : 0x7f);
				if (rng_one_in(2))
					buf_insert(b, rng_one_in(2) ? pos : b->len, run, n);
				else
				{
					if (pos + n > b->len)
						n = b->len - pos;
					memcpy(b->data + pos, run, n);
				}
			}
			break;
		case 6:					/* delete a segment */
			buf_delete(b, pos, 1 + rng_below(16));
			break;
		case 7:					/* insert random bytes */
			{
				uint8_t		tmp[16];
				size_t		n = 1 + rng_below(sizeof(tmp));

				for (size_t i = 0; i < n; i++)
					tmp[i] = (uint8_t) rng_next();
				buf_insert(b, b->len ? rng_below(b->len + 1) : 0, tmp, n);
			}
			break;
		case 8:					/* a special double over 8 bytes */
			{
				double		d = interesting_doubles[rng_below(sizeof(interesting_doubles) / sizeof(double))];
				uint64_t	bits;

				if (rng_one_in(4))
					d = rng_one_in(2) ? NAN : (rng_one_in(2) ? INFINITY : -INFINITY);
				memcpy(&bits, &d, 8);
				/* alpha sits at offset 2; min and max follow the varints */
				if (rng_one_in(3))
					pos = 2;
				for (int i = 0; i < 8 && pos + i < b->len; i++)
					b->data[pos + i] = (uint8_t) (bits >> (8 * i));
			}
			break;
		case 9:					/* a big but well-formed varint in place of a byte */
			if (b->len)
			{
				static const uint64_t bigs[] = {
					128, 16384, 65535, 262144, 262145, 1u << 31, UINT32_MAX,
					UINT64_C(1) << 32, UINT64_C(1) << 62, INT64_MAX,
					UINT64_MAX, UINT64_MAX - 1
				};
				uint8_t		tmp[12];
				size_t		n = encode_varint(bigs[rng_below(sizeof(bigs) / sizeof(bigs[0]))], tmp);

				buf_delete(b, pos, 1);
				buf_insert(b, pos, tmp, n);
			}
			break;
		case 10:				/* version or flags byte */
			if (b->len > 1)
				b->data[rng_below(2)] = (uint8_t) rng_below(rng_one_in(2) ? 8 : 256);
			break;
		case 11:				/* swap two bytes */
			if (b->len > 1)
			{
				size_t		other = rng_below(b->len);
				uint8_t		t = b->data[pos];

				b->data[pos] = b->data[other];
				b->data[other] = t;
			}
			break;
	}
}

/* Fill b with a mutated (sometimes unchanged) packed seed. */
static void
make_binary_input(buffer *b)
{
	const seed *s = pick_seed(false);
	int			n;

	buf_set(b, s->bin, s->binlen);
	if (rng_one_in(50))
		return;					/* the seed itself must be accepted */
	n = 1 + (int) rng_below(rng_one_in(4) ? 8 : 3);
	for (int i = 0; i < n; i++)
		mutate_binary_once(b);
}

/* ----------------------------------------------------------------
 * Mutations of the text form (printable ASCII only: the server would
 * reject other bytes itself, before our input function sees them)
 * ----------------------------------------------------------------
 */
static const char interesting_chars[] = "0123456789-+.eE,:{}[]\" nultrf\\";

static const char *const weird_numbers[] = {
	"0", "-0", "-1", "1", "0.0", "1e309", "-1e309", "1e-400", "NaN", "nan",
	"Infinity", "-Infinity", "inf", "2147483647", "2147483648", "-2147483649",
	"4294967296", "9223372036854775807", "9223372036854775808",
	"18446744073709551615", "18446744073709551616",
	"99999999999999999999999999999999", "0x10", "1e", "--1", "1.5", "0.00009",
	"0.10001", "262145", "3c0000p-18", "\"1p-1074\"", "\"ffffffffffffffffp99999\"",
	"\"-1p0\"", "\"p\"", "null", "true", "[]", "{}", "\"\"", "1e18"
};

static bool
is_number_char(char c)
{
	return isdigit((unsigned char) c) || c == '-' || c == '+' || c == '.' ||
		c == 'e' || c == 'E';
}

static void
mutate_text_once(buffer *b)
{
	size_t		pos = b->len ? rng_below(b->len) : 0;

	switch (rng_below(10))
	{
		case 0:					/* character substitution */
		case 1:
			if (b->len)
				b->data[pos] = rng_one_in(2)
					? (uint8_t) interesting_chars[rng_below(sizeof(interesting_chars) - 1)]
					: (uint8_t) (0x20 + rng_below(0x5f));
			break;
		case 2:					/* character deletion */
			buf_delete(b, pos, rng_one_in(4) ? 1 + rng_below(12) : 1);
			break;
		case 3:					/* character insertion */
			{
				uint8_t		c = (uint8_t) interesting_chars[rng_below(sizeof(interesting_chars) - 1)];

				buf_insert(b, b->len ? rng_below(b->len + 1) : 0, &c, 1);
			}
			break;
		case 4:					/* truncation */
			b->len = b->len ? rng_below(b->len) : 0;
			b->data[b->len] = 0;
			break;
		case 5:					/* duplicated segment */
			if (b->len)
			{
				size_t		start = rng_below(b->len);
				size_t		n = 1 + rng_below(b->len - start < 64 ? b->len - start : 64);

				buf_insert(b, rng_below(b->len + 1), b->data + start, n);
			}
			break;
		case 6:					/* replace a number token */
		case 7:
			{
				size_t		start = pos,
							end;
				const char *w = weird_numbers[rng_below(sizeof(weird_numbers) / sizeof(weird_numbers[0]))];

				/* find the next number at or after pos */
				while (start < b->len && !isdigit((unsigned char) b->data[start]))
					start++;
				if (start >= b->len)
					break;
				while (start > 0 && is_number_char((char) b->data[start - 1]))
					start--;
				end = start;
				while (end < b->len && is_number_char((char) b->data[end]))
					end++;
				buf_delete(b, start, end - start);
				buf_insert(b, start, (const uint8_t *) w, strlen(w));
			}
			break;
		case 8:					/* a long digit run */
			{
				uint8_t		run[400];
				size_t		n = 20 + rng_below(sizeof(run) - 20);

				memset(run, '9', n);
				buf_insert(b, b->len ? rng_below(b->len + 1) : 0, run, n);
			}
			break;
		case 9:					/* random printable text */
			{
				uint8_t		tmp[80];
				size_t		n = rng_below(sizeof(tmp));

				for (size_t i = 0; i < n; i++)
					tmp[i] = rng_one_in(2)
						? (uint8_t) interesting_chars[rng_below(sizeof(interesting_chars) - 1)]
						: (uint8_t) (0x20 + rng_below(0x5f));
				buf_set(b, tmp, n);
			}
			break;
	}
}

static void
make_text_input(buffer *b)
{
	const seed *s = pick_seed(true);
	int			n;

	buf_set(b, (const uint8_t *) s->text, s->textlen);
	if (rng_one_in(50))
		return;
	n = 1 + (int) rng_below(rng_one_in(4) ? 6 : 2);
	for (int i = 0; i < n; i++)
		mutate_text_once(b);
}

/* ----------------------------------------------------------------
 * The decoder paths
 * ----------------------------------------------------------------
 */
typedef enum path_kind
{
	PATH_RECV,
	PATH_TEXT,
	PATH_BYTEA
} path_kind;

typedef struct state_count
{
	char		state[6];
	long		n;
} state_count;

typedef struct path_result
{
	long		pushed;
	long		accepted;
	long		rejected;
	long		failures;
	state_count states[32];
	int			nstates;
} path_result;

static void
count_state(path_result *pr, const char *state)
{
	for (int i = 0; i < pr->nstates; i++)
		if (strcmp(pr->states[i].state, state) == 0)
		{
			pr->states[i].n++;
			return;
		}
	if (pr->nstates < 32)
	{
		snprintf(pr->states[pr->nstates].state, 6, "%s", state);
		pr->states[pr->nstates++].n = 1;
	}
}

static bool
state_allowed(const char *state)
{
	for (size_t i = 0; i < N_ALLOWED; i++)
		if (strcmp(state, allowed_states[i]) == 0)
			return true;
	return false;
}

/* Execute sql with the input as its one parameter in this path's format. */
static PGresult *
exec_input(path_kind kind, const char *sql, const buffer *in,
		   unsigned int sketch_oid)
{
	const char *values[1] = {(const char *) in->data};
	int			lengths[1] = {(int) in->len};
	int			formats[1] = {kind == PATH_TEXT ? 0 : 1};
	unsigned int types[1] = {kind == PATH_RECV ? sketch_oid :
		kind == PATH_BYTEA ? BYTEA_OID : 0};

	return PQexecParams(conn, sql, 1, types, values, lengths, formats, 0);
}

static void
print_failure(path_result *pr, const char *what, const buffer *in,
			  PGresult *r)
{
	pr->failures++;
	if (pr->failures > MAX_PRINTED_FAILURES)
		return;
	printf("    FAILURE #%ld: %s\n", pr->failures, what);
	if (r != NULL)
	{
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		printf("    sqlstate %s: %s", st ? st : "(none)",
			   PQerrorMessage(conn)[0] ? PQerrorMessage(conn) : "(no message)\n");
	}
	print_hex("input", in->data, in->len);
}

/* Say why the connection went away, as far as the client can tell. */
static void
print_lost(PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (st != NULL && strcmp(st, "57P01") == 0)
		printf("    the server was shut down by an administrator (another"
			   " session stopping or restarting the cluster?)\n");
	else
		printf("    the backend died: look for \"terminated by signal\" in"
			   " the server log\n");
}

static const char *
path_name(path_kind kind)
{
	return kind == PATH_RECV ? "binary receive (sketch_recv)" :
		kind == PATH_TEXT ? "text input (sketch_in)" :
		"bytea cast (bytea::sketch)";
}

/*
 * Push n inputs through one decoder path; one test case.  Every accepted
 * input must give a quantile row and round-trip through text and bytea
 * unchanged; every rejection must carry an allowed SQLSTATE.
 */
static void
run_path(path_kind kind, long n, unsigned int sketch_oid)
{
	const char *expr = kind == PATH_RECV ? "$1" :
		kind == PATH_TEXT ? "$1::perfstore.sketch" :
		"$1::bytea::perfstore.sketch";
	char		q_sql[256],
				rt_sql[512];
	path_result pr;
	buffer		in = {0};
	double		t0 = now_seconds();
	bool		lost = false;

	memset(&pr, 0, sizeof(pr));
	snprintf(q_sql, sizeof(q_sql), "SELECT perfstore.quantile(%s, 0.5)", expr);
	snprintf(rt_sql, sizeof(rt_sql),
			 "SELECT s::text = s::text::perfstore.sketch::text"
			 " AND s::bytea::perfstore.sketch::text = s::text"
			 " AND s::bytea = s::text::perfstore.sketch::bytea"
			 " FROM (SELECT %s AS s) x", expr);

	for (long i = 0; i < n && !lost; i++)
	{
		PGresult   *r;

		if (kind == PATH_TEXT)
			make_text_input(&in);
		else
			make_binary_input(&in);
		pr.pushed++;
		r = exec_input(kind, q_sql, &in, sketch_oid);
		if (PQresultStatus(r) == PGRES_TUPLES_OK)
		{
			if (PQntuples(r) != 1)
				print_failure(&pr, "accepted but the quantile query gave no row",
							  &in, NULL);
			else
			{
				PGresult   *rt;

				pr.accepted++;
				rt = exec_input(kind, rt_sql, &in, sketch_oid);
				if (PQresultStatus(rt) != PGRES_TUPLES_OK ||
					PQntuples(rt) != 1 ||
					strcmp(PQgetvalue(rt, 0, 0), "t") != 0)
					print_failure(&pr, "accepted input does not round-trip"
								  " unchanged through text and bytea",
								  &in, PQresultStatus(rt) == PGRES_TUPLES_OK ? NULL : rt);
				if (PQstatus(conn) != CONNECTION_OK)
				{
					print_lost(rt);
					count_state(&pr, "lost");
					lost = !reconnect();
				}
				PQclear(rt);
			}
		}
		else
		{
			const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

			if (PQstatus(conn) != CONNECTION_OK)
			{
				print_failure(&pr, "connection lost", &in, r);
				print_lost(r);
				count_state(&pr, "lost");
				lost = !reconnect();
			}
			else if (PQresultStatus(r) == PGRES_FATAL_ERROR && st != NULL &&
					 state_allowed(st))
			{
				pr.rejected++;
				count_state(&pr, st);
			}
			else
			{
				print_failure(&pr, "rejected with a SQLSTATE that is not allowed",
							  &in, r);
				count_state(&pr, st ? st : "none");
			}
		}
		PQclear(r);
	}

	printf("# %s: pushed %ld, accepted %ld, rejected %ld (",
		   path_name(kind), pr.pushed, pr.accepted, pr.rejected);
	for (int i = 0; i < pr.nstates; i++)
		printf("%s%s: %ld", i ? ", " : "", pr.states[i].state, pr.states[i].n);
	printf("), failures %ld, %.1f s\n", pr.failures, now_seconds() - t0);
	report(pr.failures == 0 && !lost && pr.pushed >= n,
		   "%s: %ld random and mutated encodings, accepted or rejected with "
		   "22P02/22P03/22023/22003", path_name(kind), pr.pushed);
	free(in.data);
}

/* ----------------------------------------------------------------
 * Round trips
 * ----------------------------------------------------------------
 */

/*
 * Each seed, sent back in binary as a perfstore.sketch parameter, gives
 * the identical text form and the identical binary form.
 */
static void
test_sketch_round_trip(unsigned int sketch_oid)
{
	int			bad = 0;

	for (size_t i = 0; i < N_SEEDS; i++)
	{
		const char *values[1] = {(const char *) seeds[i].bin};
		int			lengths[1] = {(int) seeds[i].binlen};
		int			formats[1] = {1};
		unsigned int types[1] = {sketch_oid};
		PGresult   *r = PQexecParams(conn, "SELECT $1::text, $1",
									 1, types, values, lengths, formats, 1);

		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
			(size_t) PQgetlength(r, 0, 0) != seeds[i].textlen ||
			memcmp(PQgetvalue(r, 0, 0), seeds[i].text, seeds[i].textlen) != 0 ||
			(size_t) PQgetlength(r, 0, 1) != seeds[i].binlen ||
			memcmp(PQgetvalue(r, 0, 1), seeds[i].bin, seeds[i].binlen) != 0)
		{
			bad++;
			printf("    %s: binary round trip differs: %s", seeds[i].name,
				   PQresultStatus(r) == PGRES_TUPLES_OK ? "\n" : PQerrorMessage(conn));
			print_hex("sent", seeds[i].bin, seeds[i].binlen);
		}
		PQclear(r);
	}
	report(bad == 0, "sketch binary round trip: %zu seeds give identical text and binary forms",
		   N_SEEDS);
}

static const char *const stats_sets[] = {
	"SELECT perfstore.stats_agg(exp(random() * 5)) FROM generate_series(1, 1000)",
	"SELECT perfstore.stats_agg(1e9 + random()) FROM generate_series(1, 1000)",
	"SELECT perfstore.stats_agg((random() - 0.5) * 1e6) FROM generate_series(1, 100)",
	"SELECT perfstore.stats_agg(7.5::float8)",
	"SELECT perfstore.stats_agg(0.0::float8) FROM generate_series(1, 3)",
	"SELECT perfstore.stats_agg(-1e300::float8)",
};
#define N_STATS_SETS	(sizeof(stats_sets) / sizeof(stats_sets[0]))

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t) (v >> (56 - 8 * i));
}

static void
put_be_double(uint8_t *p, double d)
{
	uint64_t	bits;

	memcpy(&bits, &d, 8);
	put_be64(p, bits);
}

/*
 * perfstore.stats: binary round trip of several values, named mutations
 * rejected with 22P03, and random mutations accepted or rejected with an
 * allowed SQLSTATE.
 */
static void
test_stats(unsigned int stats_oid)
{
	int			bad_rt = 0;
	int			bad_mut = 0;
	int			nmut = 0;
	uint8_t		base[64];
	size_t		baselen = 0;
	long		fuzz_acc = 0,
				fuzz_rej = 0,
				fuzz_bad = 0;

	for (size_t i = 0; i < N_STATS_SETS; i++)
	{
		char		sql[512];
		PGresult   *r,
				   *r2;
		const char *values[1];
		int			lengths[1];
		int			formats[1] = {1};
		unsigned int types[1] = {stats_oid};

		snprintf(sql, sizeof(sql),
				 "WITH x(s) AS MATERIALIZED (%s) SELECT s, s::text FROM x",
				 stats_sets[i]);
		r = must_exec(sql, 1);
		values[0] = PQgetvalue(r, 0, 0);
		lengths[0] = PQgetlength(r, 0, 0);
		if (i == 0 && lengths[0] <= (int) sizeof(base))
		{
			baselen = (size_t) lengths[0];
			memcpy(base, values[0], baselen);
		}
		r2 = PQexecParams(conn, "SELECT $1::text, $1", 1, types, values,
						  lengths, formats, 1);
		if (PQresultStatus(r2) != PGRES_TUPLES_OK ||
			PQgetlength(r2, 0, 0) != PQgetlength(r, 0, 1) ||
			memcmp(PQgetvalue(r2, 0, 0), PQgetvalue(r, 0, 1), PQgetlength(r, 0, 1)) != 0 ||
			PQgetlength(r2, 0, 1) != lengths[0] ||
			memcmp(PQgetvalue(r2, 0, 1), values[0], lengths[0]) != 0)
		{
			bad_rt++;
			printf("    stats set %zu: binary round trip differs: %s", i,
				   PQresultStatus(r2) == PGRES_TUPLES_OK ? "\n" : PQerrorMessage(conn));
			print_hex("sent", (const uint8_t *) values[0], lengths[0]);
		}
		PQclear(r2);
		PQclear(r);
	}
	report(bad_rt == 0, "stats binary round trip: %zu values give identical text and binary forms",
		   N_STATS_SETS);

	if (baselen != 49)
	{
		report(false, "stats binary form is 49 bytes (got %zu)", baselen);
		return;
	}

	/* named mutations of a valid value (count 1000, positive values) */
	for (int m = 0; m < 14; m++)
	{
		uint8_t		b[80];
		size_t		len = baselen;
		const char *values[1] = {(const char *) b};
		int			lengths[1];
		int			formats[1] = {1};
		unsigned int types[1] = {stats_oid};
		PGresult   *r;
		const char *st;

		memcpy(b, base, baselen);
		switch (m)
		{
			case 0: len = 48; break;	/* truncated */
			case 1: len = 0; break;		/* empty */
			case 2: b[49] = 0; len = 50; break;	/* trailing byte */
			case 3: b[0] = 2; break;	/* unknown version */
			case 4: b[0] = 0; break;
			case 5: put_be64(b + 1, UINT64_MAX); break;	/* count -1 */
			case 6: put_be_double(b + 9, NAN); break;	/* sum NaN */
			case 7: put_be_double(b + 17, INFINITY); break;	/* sumc inf */
			case 8: put_be_double(b + 25, -1.0); break;	/* m2 negative */
			case 9: put_be_double(b + 33, 1e300); break;	/* min > max */
			case 10: put_be_double(b + 41, -INFINITY); break;	/* max -inf */
			case 11: put_be64(b + 1, 0); break;	/* count 0, fields nonzero */
			case 12: put_be64(b + 1, 1); break;	/* count 1, m2 != 0 */
			case 13: put_be_double(b + 9, -1e12); break;	/* mean < min */
		}
		lengths[0] = (int) len;
		nmut++;
		r = PQexecParams(conn, "SELECT perfstore.num_vals($1)", 1, types,
						 values, lengths, formats, 0);
		st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (PQresultStatus(r) != PGRES_FATAL_ERROR || st == NULL ||
			strcmp(st, "22P03") != 0)
		{
			bad_mut++;
			printf("    stats mutation %d: expected an error with SQLSTATE 22P03, got %s %s",
				   m, PQresStatus(PQresultStatus(r)),
				   st ? st : "(accepted)\n");
			if (st)
				printf(": %s", PQerrorMessage(conn));
			print_hex("input", b, len);
			if (PQstatus(conn) != CONNECTION_OK && !reconnect())
			{
				PQclear(r);
				break;
			}
		}
		PQclear(r);
	}
	report(bad_mut == 0, "stats binary receive: %d mutated encodings rejected with 22P03",
		   nmut);

	/* random mutations: accepted or an allowed SQLSTATE, never a crash */
	for (int i = 0; i < 2000; i++)
	{
		buffer		b = {0};
		const char *values[1];
		int			lengths[1];
		int			formats[1] = {1};
		unsigned int types[1] = {stats_oid};
		PGresult   *r;
		int			n = 1 + (int) rng_below(3);

		buf_set(&b, base, baselen);
		for (int k = 0; k < n; k++)
		{
			size_t		pos = rng_below(b.len ? b.len : 1);

			switch (rng_below(4))
			{
				case 0:
					if (b.len)
						b.data[pos] ^= (uint8_t) (1u << rng_below(8));
					break;
				case 1:
					if (b.len)
						b.data[pos] = interesting_bytes[rng_below(sizeof(interesting_bytes))];
					break;
				case 2:
					if (b.len >= 9)
						put_be_double(b.data + 1 + 8 * rng_below((b.len - 1) / 8),
									  interesting_doubles[rng_below(sizeof(interesting_doubles) / sizeof(double))]);
					break;
				case 3:
					if (rng_one_in(4))
						b.len = rng_below(b.len + 1);
					break;
			}
		}
		values[0] = (const char *) b.data;
		lengths[0] = (int) b.len;
		r = PQexecParams(conn, "SELECT perfstore.mean($1), perfstore.var_pop($1)",
						 1, types, values, lengths, formats, 0);
		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			fuzz_acc++;
		else
		{
			const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

			if (PQstatus(conn) == CONNECTION_OK && st && state_allowed(st))
				fuzz_rej++;
			else
			{
				fuzz_bad++;
				if (fuzz_bad <= MAX_PRINTED_FAILURES)
				{
					printf("    stats input: %s", PQerrorMessage(conn));
					print_hex("input", b.data, b.len);
				}
				if (PQstatus(conn) != CONNECTION_OK && !reconnect())
				{
					PQclear(r);
					free(b.data);
					break;
				}
			}
		}
		PQclear(r);
		free(b.data);
	}
	printf("# stats binary receive: pushed %ld, accepted %ld, rejected %ld, failures %ld\n",
		   fuzz_acc + fuzz_rej + fuzz_bad, fuzz_acc, fuzz_rej, fuzz_bad);
	report(fuzz_bad == 0, "stats binary receive: 2000 randomly mutated encodings accepted or rejected with an allowed SQLSTATE");
}

int
main(int argc, char **argv)
{
	long		n = 10000;
	unsigned int sketch_oid,
				stats_oid;
	PGconn	   *probe;
	PGresult   *r;

	if (argc < 2)
	{
		fprintf(stderr, "usage: %s DBNAME [INPUTS_PER_PATH [PRNG_SEED]]\n", argv[0]);
		return 2;
	}
	dbname = argv[1];
	if (argc > 2)
		n = strtol(argv[2], NULL, 10);
	rng_state = argc > 3 ? strtoull(argv[3], NULL, 0) : UINT64_C(20240517);
	printf("# PRNG seed %" PRIu64 ", %ld inputs per path\n", rng_state, n);

	conn = connect_db();
	if (conn == NULL)
		return 2;
	quiet_log();
	sketch_oid = lookup_oid("perfstore.sketch");
	stats_oid = lookup_oid("perfstore.stats");
	fetch_seeds();
	for (size_t i = 0; i < N_SEEDS; i++)
		printf("# seed %-62s binary %6zu bytes, text %7zu bytes\n",
			   seeds[i].name, seeds[i].binlen, seeds[i].textlen);

	test_sketch_round_trip(sketch_oid);
	run_path(PATH_RECV, n, sketch_oid);
	run_path(PATH_TEXT, n, sketch_oid);
	run_path(PATH_BYTEA, n, sketch_oid);
	test_stats(stats_oid);

	/* the server is still up: a new connection answers */
	probe = connect_db();
	r = probe ? PQexec(probe, "SELECT 1") : NULL;
	report(r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK &&
		   strcmp(PQgetvalue(r, 0, 0), "1") == 0,
		   "server still up: a new connection answers SELECT 1");
	PQclear(r);
	PQfinish(probe);
	PQfinish(conn);

	return UNIT_DONE("sketch_binary_client");
}
