/*
 * make_seeds.c
 *		Write a small seed corpus for sketch_decode_fuzz: a few valid
 *		sketches, each in the packed form (<name>.bin) and the text form
 *		(<name>.txt), into the directory given as the only argument.
 *
 * The sketches cover what the decoders must handle: empty, one value, a
 * constant, zeros, both signs, a collapsed store, a finer alpha, carried
 * quantiles, extreme magnitudes and a gap between bucket runs.  Data come
 * from a fixed xorshift generator, so the output is reproducible.
 *
 * Exit status 0, or 1 with a message if a sketch cannot be built or written.
 */
#include "sketch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
seed_alloc(size_t size, void *ctx)
{
	(void) ctx;
	return malloc(size);
}

static void
seed_free(void *p, void *ctx)
{
	(void) ctx;
	free(p);
}

static const sketch_allocator A = {seed_alloc, seed_free, NULL};

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static double
urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double) (rng >> 11) + 0.5) / 9007199254740992.0;
}

static double
lognormal(double mu, double sigma)
{
	double		u1 = urand(),
				u2 = urand();

	return exp(mu + sigma * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

static const char *outdir;

static void
die(const char *what)
{
	fprintf(stderr, "make_seeds: error: %s\n", what);
	exit(1);
}

static void
write_file(const char *name, const char *ext, const void *buf, size_t len)
{
	char		path[4096];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s.%s", outdir, name, ext);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

/* Write s in both forms and free it. */
static void
emit(const char *name, struct sketch *s)
{
	uint8_t    *p = malloc(sketch_packed_size(s));
	char	   *t = malloc(sketch_text_size(s));
	size_t		len;

	if (p == NULL || t == NULL)
		die("out of memory");
	len = sketch_pack(s, p);
	write_file(name, "bin", p, len);
	len = sketch_to_text(s, t);
	write_file(name, "txt", t, len);
	free(p);
	free(t);
	free(s);
}

static struct sketch *
make(double alpha)
{
	struct sketch *s = sketch_create(&A, alpha);

	if (s == NULL)
		die("sketch_create failed");
	return s;
}

static void
add(struct sketch **s, double v)
{
	if (sketch_add(s, v, &A) != SKETCH_OK)
		die("sketch_add failed");
}

int
main(int argc, char **argv)
{
	struct sketch *s;

	if (argc != 2)
	{
		fprintf(stderr, "usage: make_seeds DIR\n");
		return 2;
	}
	outdir = argv[1];

	emit("empty", make(0.01));

	s = make(0.01);
	add(&s, 42.0);
	emit("one", s);

	s = make(0.01);
	for (int i = 0; i < 10; i++)
		add(&s, 1.0);
	emit("constant", s);

	s = make(0.01);
	for (int i = 0; i < 5; i++)
		add(&s, 0.0);
	emit("zeros", s);

	s = make(0.01);
	for (int i = 0; i < 300; i++)
		add(&s, lognormal(3.0, 1.0));
	emit("lognormal", s);

	s = make(0.01);
	for (int i = 0; i < 200; i++)
		add(&s, (urand() - 0.5) * 1000.0);
	for (int i = 0; i < 7; i++)
		add(&s, 0.0);
	emit("mixed", s);

	s = make(0.01);
	for (int i = 0; i < 50; i++)
		add(&s, -lognormal(0.0, 2.0));
	emit("negative", s);

	/* a gap: two clusters far apart give two bucket runs */
	s = make(0.01);
	for (int i = 0; i < 20; i++)
	{
		add(&s, 1.0 + urand() * 0.05);
		add(&s, 1000.0 + urand() * 50.0);
	}
	emit("runs", s);

	/* collapsed: a small budget and a wide range */
	s = make(0.05);
	if (sketch_set_max_buckets(s, 16) != SKETCH_OK)
		die("sketch_set_max_buckets failed");
	for (int i = 0; i < 100; i++)
		add(&s, lognormal(0.0, 4.0));
	for (int i = 0; i < 20; i++)
		add(&s, -lognormal(0.0, 4.0));
	emit("collapsed", s);

	s = make(0.001);
	for (int i = 0; i < 100; i++)
		add(&s, lognormal(5.0, 0.5));
	emit("fine", s);

	s = make(0.1);
	add(&s, 1e-300);
	add(&s, 4.9e-324);
	add(&s, 1.7e308);
	add(&s, -1.7e308);
	emit("extremes", s);

	s = make(0.01);
	for (int i = 0; i < 30; i++)
		add(&s, urand() * 10.0);
	{
		static const double q[] = {0.5, 0.95, 0.99};

		if (sketch_set_quantiles(&s, q, 3, &A) != SKETCH_OK)
			die("sketch_set_quantiles failed");
	}
	emit("quantiles", s);
	return 0;
}
