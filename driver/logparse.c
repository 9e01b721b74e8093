/*
 * logparse.c
 *		PostgreSQL server logs (csvlog, stderr) into log entries, and the
 *		SQL shape scan.
 *
 * Owns: chunked reading (read(2) into one buffer; an entry that crosses
 * the end of the buffer is moved to its start and completed by the next
 * read), csvlog record splitting and field unescaping, stderr prefix and
 * continuation-line handling.  See logparse.h for the formats.
 *
 * Must not: interpret messages (cmd_analyze.c does), talk to libpq, or
 * trust the input: every length is checked, a malformed line is passed to
 * the "bad" callback and skipped, and an entry longer than
 * LOGPARSE_MAX_ENTRY is skipped as bad up to its next newline.
 *
 * Memory: the read buffer and one scratch buffer, both malloc'd here and
 * freed before logparse_fd() returns.
 */
#define _GNU_SOURCE				/* memmem */
#include "logparse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

#define LOGPARSE_CSV_FIELDS 32
#define FNV_INIT UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

/* Growable scratch buffer for unescaped or joined text. */
struct logparse_scratch
{
	char	   *buf;
	size_t		cap;
	size_t		len;
};

static void
scratch_reserve(struct logparse_scratch *s, size_t need)
{
	if (need <= s->cap)
		return;
	while (s->cap < need)
		s->cap = s->cap ? 2 * s->cap : 65536;
	s->buf = pd_realloc(s->buf, s->cap);
}

/* ------------------------------------------------------------ timestamps */

static int64_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	{
		int			era = (y >= 0 ? y : y - 399) / 400;
		int			yoe = y - era * 400;
		int			doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		int			doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		return (int64_t) era * 146097 + doe - 719468;
	}
}

static int
dig2(const char *s)
{
	if (!isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

size_t
logparse_timestamp(const char *s, size_t len, int64_t *ms)
{
	int			y,
				mo,
				d,
				h,
				mi,
				se,
				frac = 0;
	size_t		n = 19;

	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
		s[13] != ':' || s[16] != ':')
		return 0;
	if (dig2(s) < 0 || dig2(s + 2) < 0)
		return 0;
	y = dig2(s) * 100 + dig2(s + 2);
	mo = dig2(s + 5);
	d = dig2(s + 8);
	h = dig2(s + 11);
	mi = dig2(s + 14);
	se = dig2(s + 17);
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || mi < 0 || se < 0)
		return 0;
	if (n < len && s[n] == '.')
	{
		int			scale = 100;

		n++;
		while (n < len && isdigit((unsigned char) s[n]))
		{
			frac += (s[n] - '0') * scale;
			scale /= 10;
			n++;
		}
	}
	*ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + se * 1000LL + frac;
	return n;
}

/* Does the line at buf start with a csvlog timestamp field? */
static bool
detect_csv_line(const char *buf, size_t len)
{
	int64_t		ms;
	size_t		n = logparse_timestamp(buf, len, &ms);

	if (n == 0)
		return false;
	/* csvlog: "2024-01-02 03:04:05.678 UTC," */
	while (n < len && buf[n] != ',' && buf[n] != '\n' && buf[n] != ' ')
		n++;
	if (n < len && buf[n] == ' ')
	{
		n++;
		while (n < len && buf[n] != ',' && buf[n] != '\n' && buf[n] != ' ')
			n++;
	}
	return n < len && buf[n] == ',';
}

logparse_format
logparse_detect(const char *buf, size_t len)
{
	size_t		pos = 0;

	/* the first lines that start with a timestamp decide (a file may start mid-entry) */
	for (int lines = 0; lines < 64 && pos < len; lines++)
	{
		const char *nl = memchr(buf + pos, '\n', len - pos);
		int64_t		ms;

		if (logparse_timestamp(buf + pos, len - pos, &ms) > 0)
			return detect_csv_line(buf + pos, len - pos) ? LOGPARSE_CSVLOG : LOGPARSE_STDERR;
		if (nl == NULL)
			break;
		pos = (size_t) (nl - buf) + 1;
	}
	return LOGPARSE_STDERR;
}

/* -------------------------------------------------------------- stderr */

static bool
is_severity(const char *w, size_t n)
{
	switch (n)
	{
		case 3:
			return memcmp(w, "LOG", 3) == 0;
		case 4:
			return memcmp(w, "HINT", 4) == 0 || memcmp(w, "INFO", 4) == 0;
		case 5:
			return memcmp(w, "ERROR", 5) == 0 || memcmp(w, "FATAL", 5) == 0 ||
				memcmp(w, "PANIC", 5) == 0;
		case 6:
			return memcmp(w, "DETAIL", 6) == 0 || memcmp(w, "NOTICE", 6) == 0 ||
				(memcmp(w, "DEBUG", 5) == 0 && w[5] >= '1' && w[5] <= '5');
		case 7:
			return memcmp(w, "WARNING", 7) == 0 || memcmp(w, "CONTEXT", 7) == 0;
		case 8:
			return memcmp(w, "LOCATION", 8) == 0;
		case 9:
			return memcmp(w, "STATEMENT", 9) == 0;
		default:
			return false;
	}
}

/*
 * stderr_who_one: the value after key (e.g. "user=") in the prefix
 * p[0..n), up to a ',', ' ', ']' or the end; *len 0 when absent.
 */
static void
stderr_who_one(const char *p, size_t n, const char *key, const char **val, size_t *len)
{
	size_t		kl = strlen(key);
	const char *k = p;

	if (*len > 0)
		return;
	while ((k = memmem(k, (p + n) - k, key, kl)) != NULL)
	{
		if (k == p || k[-1] == ' ' || k[-1] == ',' || k[-1] == '[' || k[-1] == '(')
		{
			const char *v = k + kl;
			const char *e = v;

			while (e < p + n && *e != ',' && *e != ' ' && *e != ']' && *e != ')')
				e++;
			*val = v;
			*len = e - v;
			return;
		}
		k += kl;
	}
}

/* stderr_who: user, database and application from a stderr prefix. */
static void
stderr_who(const char *p, size_t n, struct logparse_entry *e)
{
	if (memchr(p, '=', n) == NULL)
		return;
	stderr_who_one(p, n, "user=", &e->user, &e->user_len);
	stderr_who_one(p, n, "db=", &e->database, &e->database_len);
	stderr_who_one(p, n, "database=", &e->database, &e->database_len);
	stderr_who_one(p, n, "app=", &e->application, &e->application_len);
	stderr_who_one(p, n, "application=", &e->application, &e->application_len);
}

/*
 * stderr_session: the session key in prefix p[0..n): a %c id (hex, '.',
 * hex, at least 6 digits before the dot), else the number in the first
 * "[digits]" (%p in the default prefix, "[123-1]" too), else the first
 * bare integer after the timestamp.
 */
static void
stderr_session(const char *p, size_t n, size_t skip, const char **key, size_t *klen)
{
	size_t		i;

	*key = NULL;
	*klen = 0;
	/* %c */
	for (i = skip; i < n; i++)
	{
		size_t		j = i,
					k;

		if (i > 0 && isxdigit((unsigned char) p[i - 1]))
			continue;
		while (j < n && isxdigit((unsigned char) p[j]))
			j++;
		if (j - i >= 6 && j < n && p[j] == '.')
		{
			k = j + 1;
			while (k < n && isxdigit((unsigned char) p[k]))
				k++;
			if (k > j + 1)
			{
				*key = p + i;
				*klen = k - i;
				return;
			}
		}
		if (j > i)
			i = j;
	}
	/* [pid] */
	for (i = skip; i + 1 < n; i++)
	{
		if (p[i] == '[' && isdigit((unsigned char) p[i + 1]))
		{
			size_t		j = i + 1;

			while (j < n && isdigit((unsigned char) p[j]))
				j++;
			*key = p + i + 1;
			*klen = j - i - 1;
			return;
		}
	}
	/* a bare integer */
	for (i = skip; i < n; i++)
	{
		if (isdigit((unsigned char) p[i]) && (i == 0 || !isalnum((unsigned char) p[i - 1])))
		{
			size_t		j = i;

			while (j < n && isdigit((unsigned char) p[j]))
				j++;
			if (j == n || !isalnum((unsigned char) p[j]))
			{
				*key = p + i;
				*klen = j - i;
				return;
			}
			i = j;
		}
	}
}

/*
 * stderr_entry: parse one stderr entry (first line line[0..len), and its
 * continuation lines, already joined by the caller into msg when any).
 * Returns false when the line has no "<SEVERITY>:  ".
 */
static bool
stderr_entry(const char *line, size_t len, struct logparse_entry *e)
{
	const char *p = line;
	const char *end = line + len;
	size_t		tslen;

	while (p < end)
	{
		const char *c = memmem(p, end - p, ":  ", 3);
		const char *w;

		if (c == NULL)
			return false;
		w = c;
		while (w > line && isupper((unsigned char) w[-1]))
			w--;
		if ((w == line || w[-1] == ' ' || w[-1] == ']' || w[-1] == ':') &&
			is_severity(w, c - w))
		{
			e->severity = w;
			e->severity_len = c - w;
			e->message = c + 3;
			e->message_len = end - (c + 3);
			tslen = logparse_timestamp(line, w - line, &e->ts_ms);
			e->has_ts = tslen > 0;
			if (tslen > 0)
			{
				/* skip the time zone word too */
				while (tslen < (size_t) (w - line) && line[tslen] == ' ')
					tslen++;
				while (tslen < (size_t) (w - line) && isalpha((unsigned char) line[tslen]))
					tslen++;
			}
			stderr_session(line, w - line, tslen, &e->session, &e->session_len);
			stderr_who(line, w - line, e);
			return true;
		}
		p = c + 1;
	}
	return false;
}

/*
 * stderr_chunk: parse the complete entries in buf[0..len).  Returns the
 * bytes consumed; when !eof, an entry that may continue past len is left.
 */
static size_t
stderr_chunk(const char *buf, size_t len, bool eof, const struct logparse_callbacks *cb,
			 struct logparse_stats *st, struct logparse_scratch *sc)
{
	size_t		pos = 0;

	while (pos < len)
	{
		const char *start = buf + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t		first_len;
		size_t		next;
		int			ncont = 0;
		struct logparse_entry e;

		if (nl == NULL)
		{
			if (!eof)
				break;
			first_len = len - pos;
			next = len;
			st->truncated = true;
		}
		else
		{
			first_len = nl - start;
			next = (nl - buf) + 1;
		}
		/* continuation lines */
		while (next < len && buf[next] == '\t')
		{
			const char *nl2 = memchr(buf + next, '\n', len - next);

			if (nl2 == NULL)
			{
				if (!eof)
					return pos;
				next = len;
				st->truncated = true;
			}
			else
				next = (nl2 - buf) + 1;
			ncont++;
		}
		if (next == len && !eof && nl != NULL)
			return pos;			/* a continuation line may follow */

		st->lines += 1 + ncont;
		memset(&e, 0, sizeof(e));
		e.line = st->lines - ncont;
		if (first_len == 0 && ncont == 0)
		{
			pos = next;
			continue;			/* an empty line */
		}
		if (!stderr_entry(start, first_len, &e))
		{
			if (cb->bad)
				cb->bad(cb->arg, e.line, start, first_len);
			st->bad++;
			/* its continuation lines go with it */
			pos = next;
			continue;
		}
		if (ncont > 0)
		{
			/* join: message, then each continuation line without its tab */
			const char *p = start + first_len + 1;
			const char *lim = buf + next;

			sc->len = 0;
			scratch_reserve(sc, e.message_len + (lim - p) + 1);
			memcpy(sc->buf, e.message, e.message_len);
			sc->len = e.message_len;
			while (p < lim)
			{
				const char *q = memchr(p, '\n', lim - p);
				size_t		l = q ? (size_t) (q - p) : (size_t) (lim - p);

				sc->buf[sc->len++] = '\n';
				memcpy(sc->buf + sc->len, p + 1, l - 1);
				sc->len += l - 1;
				p += l + 1;
			}
			e.message = sc->buf;
			e.message_len = sc->len;
		}
		st->entries++;
		cb->entry(cb->arg, &e);
		pos = next;
	}
	return pos;
}

/* -------------------------------------------------------------- csvlog */

/*
 * csv_record: split one record starting at buf[0..len) into fields.
 * Returns the record's length including its newline, 0 when it is
 * incomplete (needs more input).  Sets *nfields and the field bounds; a
 * quoted field's bounds exclude the quotes and *quoted[i] is set.
 */
static size_t
csv_record(const char *buf, size_t len, bool eof, int *nfields,
		   size_t *fstart, size_t *flen, bool *quoted, uint64_t *nlines)
{
	size_t		p = 0;
	int			nf = 0;

	*nlines = 1;
	for (;;)
	{
		if (nf < LOGPARSE_CSV_FIELDS)
		{
			fstart[nf] = p;
			quoted[nf] = false;
		}
		if (p < len && buf[p] == '"')
		{
			size_t		q = p + 1;

			for (;;)
			{
				const char *x = memchr(buf + q, '"', len - q);

				if (x == NULL)
				{
					if (!eof)
						return 0;
					/* truncated inside a quoted field */
					*nfields = -1;
					return len;
				}
				q = x - buf;
				if (q + 1 < len && buf[q + 1] == '"')
				{
					q += 2;
					continue;
				}
				if (q + 1 >= len && !eof)
					return 0;
				break;
			}
			for (size_t i = p; i < q; i++)
				if (buf[i] == '\n')
					(*nlines)++;
			if (nf < LOGPARSE_CSV_FIELDS)
			{
				fstart[nf] = p + 1;
				flen[nf] = q - p - 1;
				quoted[nf] = true;
			}
			p = q + 1;
			/* garbage after the closing quote up to the delimiter */
			while (p < len && buf[p] != ',' && buf[p] != '\n')
				p++;
		}
		else
		{
			while (p < len && buf[p] != ',' && buf[p] != '\n')
				p++;
			if (nf < LOGPARSE_CSV_FIELDS)
				flen[nf] = p - fstart[nf];
		}
		nf++;
		if (p >= len)
		{
			if (!eof)
				return 0;
			*nfields = nf < LOGPARSE_CSV_FIELDS ? nf : LOGPARSE_CSV_FIELDS;
			return len;
		}
		if (buf[p] == '\n')
		{
			*nfields = nf < LOGPARSE_CSV_FIELDS ? nf : LOGPARSE_CSV_FIELDS;
			return p + 1;
		}
		p++;					/* the comma */
	}
}

/* Unescape a quoted field's "" into sc at offset; returns its start. */
static size_t
csv_unescape(struct logparse_scratch *sc, const char *s, size_t n, size_t *outlen)
{
	size_t		at = sc->len;
	char	   *o;

	scratch_reserve(sc, sc->len + n + 1);
	o = sc->buf + at;
	for (size_t i = 0; i < n; i++)
	{
		*o++ = s[i];
		if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
			i++;
	}
	*outlen = o - (sc->buf + at);
	*o = '\0';
	sc->len = at + *outlen + 1;
	return at;
}

static size_t
csv_chunk(const char *buf, size_t len, bool eof, const struct logparse_callbacks *cb,
		  struct logparse_stats *st, struct logparse_scratch *sc)
{
	size_t		pos = 0;
	size_t		fs[LOGPARSE_CSV_FIELDS],
				fl[LOGPARSE_CSV_FIELDS];
	bool		fq[LOGPARSE_CSV_FIELDS];

	while (pos < len)
	{
		int			nf = 0;
		uint64_t	nlines;
		size_t		n = csv_record(buf + pos, len - pos, eof, &nf, fs, fl, fq, &nlines);
		const char *r = buf + pos;
		struct logparse_entry e;

		if (n == 0)
			break;
		/* fields the record does not have are empty, not the last record's */
		for (int i = nf < 0 ? 0 : nf; i < LOGPARSE_CSV_FIELDS; i++)
		{
			fs[i] = 0;
			fl[i] = 0;
			fq[i] = false;
		}
		if (buf[pos] == '\n')
		{
			st->lines++;
			pos++;
			continue;
		}
		memset(&e, 0, sizeof(e));
		e.line = st->lines + 1;
		st->lines += nlines;
		if (nf < 0 || (eof && pos + n == len && r[n - 1] != '\n'))
			st->truncated = true;
		/* log_time, ..., process_id(3), session_id(5), severity(11), message(13), detail(14) */
		if (nf < 14 || (e.has_ts = logparse_timestamp(r + fs[0], fl[0], &e.ts_ms) > 0) == false)
		{
			size_t		l = memchr(r, '\n', n) ? (size_t) ((char *) memchr(r, '\n', n) - r) : n;

			if (cb->bad)
				cb->bad(cb->arg, e.line, r, l);
			st->bad++;
			/* resynchronise on the next line when a stray quote ate more */
			pos += (nf < 14 && l < n) ? l + 1 : n;
			if (nf < 14 && l < n)
				st->lines -= nlines - 1;
			continue;
		}
		sc->len = 0;
		if (fl[5] > 0)
		{
			e.session = r + fs[5];
			e.session_len = fl[5];
		}
		else
		{
			e.session = r + fs[3];
			e.session_len = fl[3];
		}
		e.severity = r + fs[11];
		e.severity_len = fl[11];
		/* user_name(1), database_name(2), application_name(22) */
		e.user = r + fs[1];
		e.user_len = fl[1];
		e.database = r + fs[2];
		e.database_len = fl[2];
		if (nf > 22)
		{
			e.application = r + fs[22];
			e.application_len = fl[22];
		}
		{
			/* unescape into the scratch buffer; offsets survive its growth */
			size_t		moff = 0,
						doff = 0;

			if (fq[13])
				moff = csv_unescape(sc, r + fs[13], fl[13], &e.message_len);
			else
			{
				e.message = r + fs[13];
				e.message_len = fl[13];
			}
			if (fl[14] > 0 && fq[14])
				doff = csv_unescape(sc, r + fs[14], fl[14], &e.detail_len);
			else if (fl[14] > 0)
			{
				e.detail = r + fs[14];
				e.detail_len = fl[14];
			}
			if (fq[13])
				e.message = sc->buf + moff;
			if (fl[14] > 0 && fq[14])
				e.detail = sc->buf + doff;
		}
		st->entries++;
		cb->entry(cb->arg, &e);
		pos += n;
	}
	return pos;
}

/* ---------------------------------------------------------------- reader */

bool
logparse_fd(int fd, logparse_format format, const struct logparse_callbacks *cb,
			struct logparse_stats *st, char *err, size_t errlen)
{
	size_t		cap = LOGPARSE_CHUNK;
	char	   *buf = pd_malloc(cap);
	size_t		len = 0;
	bool		eof = false;
	bool		ok = true;
	struct logparse_scratch sc = {NULL, 0, 0};

	memset(st, 0, sizeof(*st));
	while (!eof || len > 0)
	{
		size_t		used;

		if (!eof && len < cap)
		{
			ssize_t		r = read(fd, buf + len, cap - len);

			if (r < 0)
			{
				if (errno == EINTR)
					continue;
				snprintf(err, errlen, "could not read the log: %s", strerror(errno));
				ok = false;
				break;
			}
			if (r == 0)
				eof = true;
			len += (size_t) r;
			st->bytes += (uint64_t) r;
			if (!eof && len < cap)
				continue;		/* fill the buffer before parsing */
		}
		if (format == LOGPARSE_AUTO)
			format = logparse_detect(buf, len);
		used = format == LOGPARSE_CSVLOG
			? csv_chunk(buf, len, eof, cb, st, &sc)
			: stderr_chunk(buf, len, eof, cb, st, &sc);
		if (used == 0 && !eof && len == cap)
		{
			/* one entry longer than the buffer */
			if (cap >= LOGPARSE_MAX_ENTRY)
			{
				const char *nl = memchr(buf, '\n', len);

				used = nl ? (size_t) (nl - buf) + 1 : len;
				if (cb->bad)
					cb->bad(cb->arg, st->lines + 1, buf, used > 200 ? 200 : used);
				st->bad++;
				st->lines++;
			}
			else
			{
				cap *= 2;
				buf = pd_realloc(buf, cap);
				continue;
			}
		}
		memmove(buf, buf + used, len - used);
		len -= used;
		if (eof && used == 0)
			break;
	}
	st->format = format == LOGPARSE_AUTO ? LOGPARSE_STDERR : format;
	free(buf);
	free(sc.buf);
	return ok;
}

/* ------------------------------------------------------------ SQL shape */

static inline bool
shape_ident(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

uint64_t
logparse_sql_shape(const char *sql, size_t len, uint64_t *lit_hash, char *lits,
				   size_t litcap)
{
	uint64_t	h = FNV_INIT;
	uint64_t	lh = FNV_INIT;
	size_t		i = 0;
	size_t		lo = 0;
	bool		space = false;
	bool		any = false;

	if (litcap > 0)
		lits[0] = '\0';
#define SHAPE_ADD(ch) do { h ^= (unsigned char) (ch); h *= FNV_PRIME; } while (0)
#define LIT_ADD(s, n) do { \
		any = true; \
		for (size_t _k = 0; _k < (n); _k++) { lh ^= (unsigned char) (s)[_k]; lh *= FNV_PRIME; } \
		lh ^= 0xff; lh *= FNV_PRIME; \
		if (lo + 3 < litcap) { \
			size_t _m = (n); \
			if (lo > 0) { lits[lo++] = ','; lits[lo++] = ' '; } \
			if (_m > litcap - lo - 1) _m = litcap - lo - 1; \
			memcpy(lits + lo, (s), _m); lo += _m; lits[lo] = '\0'; \
		} \
	} while (0)

	while (i < len)
	{
		unsigned char c = (unsigned char) sql[i];

		if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f')
		{
			space = true;
			i++;
			continue;
		}
		if (c == '-' && i + 1 < len && sql[i + 1] == '-')
		{
			while (i < len && sql[i] != '\n')
				i++;
			space = true;
			continue;
		}
		if (c == '/' && i + 1 < len && sql[i + 1] == '*')
		{
			int			depth = 1;

			i += 2;
			while (i < len && depth > 0)
			{
				if (sql[i] == '/' && i + 1 < len && sql[i + 1] == '*')
					depth++, i += 2;
				else if (sql[i] == '*' && i + 1 < len && sql[i + 1] == '/')
					depth--, i += 2;
				else
					i++;
			}
			space = true;
			continue;
		}
		if (space)
		{
			SHAPE_ADD(' ');
			space = false;
		}
		if (shape_ident(c) && !isdigit(c) &&
			!((c == 'E' || c == 'e') && i + 1 < len && sql[i + 1] == '\''))
		{
			while (i < len && (shape_ident((unsigned char) sql[i]) || sql[i] == '$'))
			{
				SHAPE_ADD(tolower((unsigned char) sql[i]));
				i++;
			}
			continue;
		}
		if (c == '$' && i + 1 < len && isdigit((unsigned char) sql[i + 1]))
		{
			SHAPE_ADD('$');
			i++;
			while (i < len && isdigit((unsigned char) sql[i]))
				SHAPE_ADD(sql[i++]);
			continue;
		}
		if (isdigit(c) || (c == '.' && i + 1 < len && isdigit((unsigned char) sql[i + 1])))
		{
			size_t		s = i;

			while (i < len && (isalnum((unsigned char) sql[i]) || sql[i] == '.' ||
							   ((sql[i] == '+' || sql[i] == '-') &&
								(sql[i - 1] == 'e' || sql[i - 1] == 'E'))))
				i++;
			SHAPE_ADD('?');
			LIT_ADD(sql + s, i - s);
			continue;
		}
		if (c == '\'' || ((c == 'E' || c == 'e') && i + 1 < len && sql[i + 1] == '\''))
		{
			size_t		s = i;
			bool		esc = c != '\'';

			i += esc ? 2 : 1;
			while (i < len)
			{
				if (esc && sql[i] == '\\' && i + 1 < len)
					i += 2;
				else if (sql[i] == '\'' && i + 1 < len && sql[i + 1] == '\'')
					i += 2;
				else if (sql[i] == '\'')
				{
					i++;
					break;
				}
				else
					i++;
			}
			SHAPE_ADD('?');
			LIT_ADD(sql + s, i - s);
			continue;
		}
		if (c == '"')
		{
			SHAPE_ADD('"');
			i++;
			while (i < len && sql[i] != '"')
				SHAPE_ADD(sql[i++]);
			if (i < len)
				i++;
			SHAPE_ADD('"');
			continue;
		}
		if (c == '$')
		{
			/* $tag$ ... $tag$ */
			size_t		t = i + 1;

			while (t < len && shape_ident((unsigned char) sql[t]) && !isdigit((unsigned char) sql[i + 1]))
				t++;
			if (t < len && sql[t] == '$')
			{
				size_t		taglen = t + 1 - i;
				const char *endq = memmem(sql + t + 1, len - (t + 1), sql + i, taglen);
				size_t		s = i;

				i = endq ? (size_t) (endq - sql) + taglen : len;
				SHAPE_ADD('?');
				LIT_ADD(sql + s, i - s);
				continue;
			}
		}
		SHAPE_ADD(c);
		i++;
	}
#undef SHAPE_ADD
#undef LIT_ADD
	*lit_hash = any ? lh : 0;
	return h;
}
