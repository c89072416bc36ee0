/*
 * faultalloc.c - the failing allocator (faultalloc.h). Only the failure of
 * the armed allocation is injected: everything else goes to libc, so the
 * blocks are libc's and LeakSanitizer sees them as usual. A dump allocates
 * from its writer thread too, so the counts are kept under a lock.
 */
#include <pthread.h>
#include <stdlib.h>

#include <evstore/errors.h>

#include "faultalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define FA_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FA_LSAN 1
#endif
#endif
#ifdef FA_LSAN
#include <sanitizer/lsan_interface.h>
#endif

typedef struct fault_state {
	long fail_at;     /* 0: never */
	bool persistent;
	long count;
	long live;
	bool failed;
} fault_state;

static fault_state fs;
static pthread_mutex_t fs_lock = PTHREAD_MUTEX_INITIALIZER;

/* One more allocation; false if it is to fail. */
static bool admit(void)
{
	pthread_mutex_lock(&fs_lock);
	fs.count++;
	bool fail = fs.fail_at && (fs.count == fs.fail_at || (fs.persistent && fs.count > fs.fail_at));
	fs.failed |= fail;
	pthread_mutex_unlock(&fs_lock);
	return !fail;
}

static void add_live(long n)
{
	pthread_mutex_lock(&fs_lock);
	fs.live += n;
	pthread_mutex_unlock(&fs_lock);
}

static void *fa_malloc(size_t size, void *user_data)
{
	(void)user_data;
	void *p = admit() ? malloc(size) : NULL;
	if (p)
		add_live(1);
	return p;
}

static void *fa_realloc(void *ptr, size_t size, void *user_data)
{
	if (!ptr)
		return fa_malloc(size, user_data);
	return admit() ? realloc(ptr, size) : NULL; /* on failure ptr stays the caller's */
}

static void fa_free(void *ptr, void *user_data)
{
	(void)user_data;
	add_live(-1);
	free(ptr);
}

void fa_install(void)
{
	es_allocator a = { fa_malloc, fa_realloc, fa_free, NULL };
	es_set_allocator(&a);
}

void fa_arm(long n, bool persistent)
{
	pthread_mutex_lock(&fs_lock);
	fs.fail_at = n;
	fs.persistent = persistent;
	fs.count = 0;
	fs.failed = false;
	pthread_mutex_unlock(&fs_lock);
}

void fa_disarm(void)
{
	pthread_mutex_lock(&fs_lock);
	fs.fail_at = 0;
	pthread_mutex_unlock(&fs_lock);
}

/* A copy taken under the lock, like every write. */
static fault_state state(void)
{
	pthread_mutex_lock(&fs_lock);
	fault_state copy = fs;
	pthread_mutex_unlock(&fs_lock);
	return copy;
}

bool fa_failed(void) { return state().failed; }
long fa_count(void) { return state().count; }
long fa_live(void) { return state().live; }

bool fa_lsan_clean(void)
{
#ifdef FA_LSAN
	return __lsan_do_recoverable_leak_check() == 0;
#else
	return true;
#endif
}
