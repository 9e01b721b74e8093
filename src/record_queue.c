/*
 * record_queue.c
 *		The queue of record()'s asynchronous samples (docs/store.md,
 *		"Asynchronous record()"): a ring in shared memory that backends
 *		append to and the maintenance worker empties.
 *
 * Owns: the GUCs perfstore.record_async, perfstore.record_queue_size and
 * perfstore.record_flush_interval; the shared memory of the queue (which
 * exists only when the library is preloaded) and the rules of its use.
 *
 * Locking: one spinlock (mutex) guards the header: head and tail (positions
 * that only grow; the slot is the position modulo size), accepting, the
 * database, the reader's pid and its latch.  A backend checks the header
 * and writes its one entry under the lock.  The reader (the maintenance
 * worker that opened the queue, and only it) reads head under the lock and
 * copies the entries from tail to head without it: a backend writes only the
 * slots from head on, never more than size - (head - tail) of them, so the
 * slots being copied cannot change until the reader moves tail, which it
 * does under the lock once the entries are committed.  Entries are queued
 * only for the database of the reader that is accepting, so every entry in
 * the ring belongs to queue->dboid.
 *
 * Must not: raise or allocate while holding the spinlock (a few dozen
 * instructions at most are done under it); run SQL (the writing is
 * src/record_flush.c's); be reached before _PG_init defined the GUCs.
 *
 * Memory: the ring (record_queue_size entries of 32 bytes) and its header,
 * in shared memory once per server; nothing per call.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"

#include "record_queue.h"

typedef struct RecordQueue
{
	slock_t		mutex;
	bool		accepting;		/* the reader takes new entries */
	Oid			dboid;			/* the reader's database */
	int			reader_pid;		/* 0: no reader */
	Latch	   *latch;			/* the reader's, to wake it */
	bool		woken;			/* a backend set latch since the reader looked */
	uint64		head;			/* the next position written */
	uint64		tail;			/* the oldest position not yet written out */
	uint64		size;			/* slots in entries[] */
	uint64		wake_at;		/* wake the reader when this many are queued */
	RecordQueueEntry entries[FLEXIBLE_ARRAY_MEMBER];
} RecordQueue;

bool		perfstore_record_async = false;
int			perfstore_record_flush_interval = 100;
static int	record_queue_size = 65536;

static RecordQueue *record_queue = NULL;
static bool record_queue_reading = false;	/* this process is the reader */

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
record_queue_shmem_size(void)
{
	return add_size(offsetof(RecordQueue, entries),
					mul_size(sizeof(RecordQueueEntry), (Size) record_queue_size));
}

#if PG_VERSION_NUM >= 150000
static void
record_queue_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(record_queue_shmem_size());
}
#endif

/* create (postmaster) or attach to (EXEC_BACKEND children) the queue */
static void
record_queue_shmem_startup(void)
{
	bool		found;
	RecordQueue *q;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	q = ShmemInitStruct("perfstore record queue", record_queue_shmem_size(), &found);
	if (!found)
	{
		SpinLockInit(&q->mutex);
		q->accepting = false;
		q->dboid = InvalidOid;
		q->reader_pid = 0;
		q->latch = NULL;
		q->woken = false;
		q->head = 0;
		q->tail = 0;
		q->size = (uint64) record_queue_size;
		q->wake_at = Max(q->size / 4, 1);
	}
	LWLockRelease(AddinShmemInitLock);
	record_queue = q;
}

void
perfstore_record_queue_init(void)
{
	DefineCustomBoolVariable("perfstore.record_async",
							 "Lets record() queue samples for the maintenance worker to write.",
							 "Takes effect only when perfstore is in shared_preload_libraries and the maintenance worker runs in this database.  A queued sample is written within about perfstore.record_flush_interval, is kept when the calling transaction rolls back, and is lost if the server crashes first.",
							 &perfstore_record_async,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("perfstore.record_flush_interval",
							"Milliseconds between the maintenance worker's writes of record()'s queued samples.",
							NULL,
							&perfstore_record_flush_interval,
							100, 10, 3600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;

	/* PGC_POSTMASTER: defining it after startup would be FATAL */
	DefineCustomIntVariable("perfstore.record_queue_size",
							"Samples record() can queue for the maintenance worker.",
							"When the queue is full, record() writes synchronously.",
							&record_queue_size,
							65536, 16, 1048576,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = record_queue_shmem_request;
#else
	RequestAddinShmemSpace(record_queue_shmem_size());
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = record_queue_shmem_startup;
}

bool
perfstore_record_enqueue(Oid series_rel, int64 series_id, uint32 series_key,
						 TimestampTz ts, float8 value)
{
	RecordQueue *q = record_queue;
	Latch	   *wake = NULL;
	bool		queued = false;

	if (q == NULL)
		return false;
	SpinLockAcquire(&q->mutex);
	if (q->accepting && q->dboid == MyDatabaseId)
	{
		uint64		used = q->head - q->tail;

		if (used < q->size)
		{
			RecordQueueEntry *e = &q->entries[q->head % q->size];

			e->series_id = series_id;
			e->ts = ts;
			e->value = value;
			e->series_rel = series_rel;
			e->series_key = series_key;
			q->head++;
			queued = true;
			if (used + 1 == q->wake_at || used + 1 == q->size)
				wake = q->latch;
		}
		else
			wake = q->latch;
		if (wake != NULL)
			q->woken = true;
	}
	SpinLockRelease(&q->mutex);

	/*
	 * Outside the lock.  Should the reader have exited meanwhile, its latch
	 * still exists (it is its PGPROC's): the set only wakes whoever uses it
	 * now.
	 */
	if (wake != NULL)
		SetLatch(wake);
	return queued;
}

/* before_shmem_exit: the exiting reader stops accepting and lets go */
static void
record_queue_close(int code, Datum arg)
{
	RecordQueue *q = record_queue;

	if (q == NULL || !record_queue_reading)
		return;
	SpinLockAcquire(&q->mutex);
	q->accepting = false;
	q->reader_pid = 0;
	q->latch = NULL;
	SpinLockRelease(&q->mutex);
	record_queue_reading = false;
}

bool
perfstore_record_queue_open(uint64 *dropped)
{
	RecordQueue *q = record_queue;
	bool		opened = false;

	*dropped = 0;
	if (q == NULL || record_queue_reading)
		return record_queue_reading;
	SpinLockAcquire(&q->mutex);
	if (q->reader_pid == 0)
	{
		if (q->dboid != MyDatabaseId)
		{
			/* left by a worker of another database: this one cannot write them */
			*dropped = q->head - q->tail;
			q->tail = q->head;
			q->dboid = MyDatabaseId;
		}
		q->reader_pid = MyProcPid;
		q->latch = MyLatch;
		q->accepting = true;
		opened = true;
	}
	SpinLockRelease(&q->mutex);
	if (opened)
	{
		record_queue_reading = true;
		before_shmem_exit(record_queue_close, (Datum) 0);
	}
	return opened;
}

void
perfstore_record_queue_stop(void)
{
	RecordQueue *q = record_queue;

	if (q == NULL || !record_queue_reading)
		return;
	SpinLockAcquire(&q->mutex);
	q->accepting = false;
	SpinLockRelease(&q->mutex);
}

uint64
perfstore_record_queue_peek(RecordQueueEntry *buf, uint64 max)
{
	RecordQueue *q = record_queue;
	uint64		head;
	uint64		tail;
	uint64		n;

	if (q == NULL || !record_queue_reading)
		return 0;
	SpinLockAcquire(&q->mutex);
	head = q->head;
	tail = q->tail;
	SpinLockRelease(&q->mutex);

	/* tail moves only here (this process); the slots [tail, head) are fixed */
	n = Min(head - tail, max);
	for (uint64 i = 0; i < n; i++)
		buf[i] = q->entries[(tail + i) % q->size];
	return n;
}

void
perfstore_record_queue_release(uint64 n)
{
	RecordQueue *q = record_queue;

	if (q == NULL || !record_queue_reading)
		return;
	SpinLockAcquire(&q->mutex);
	q->tail += Min(n, q->head - q->tail);
	SpinLockRelease(&q->mutex);
}

uint64
perfstore_record_queue_length(void)
{
	RecordQueue *q = record_queue;
	uint64		n;

	if (q == NULL)
		return 0;
	SpinLockAcquire(&q->mutex);
	n = q->head - q->tail;
	SpinLockRelease(&q->mutex);
	return n;
}

bool
perfstore_record_queue_woken(void)
{
	RecordQueue *q = record_queue;
	bool		woken;

	if (q == NULL || !record_queue_reading)
		return false;
	SpinLockAcquire(&q->mutex);
	woken = q->woken;
	q->woken = false;
	SpinLockRelease(&q->mutex);
	return woken;
}
