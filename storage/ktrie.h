/*
 * ktrie — the keyspace index: a byte trie whose leaves are small hash tables (dict.c), so that
 * every key prefix maps to one subtree and the keys under a prefix can be counted and detached
 * without looking at them (a burst trie; Heinz, Zobel & Williams 2002).
 *
 *   root node (depth 0) ── child['u'] ─► node "users:" (depth 6) ── child['4'] ─► leaf (dict)
 *                       └─ child['s'] ─► leaf (dict: every key starting with 's')
 *
 * A node at depth d holds keys that all share its path (the d bytes node->path); its child
 * slot b < 256 holds the keys whose byte d is b, and slot FC_KT_END the one key (if any) whose
 * length is exactly d. Paths are compressed: a child node's depth may exceed its parent's + 1
 * when every key below shares the bytes in between. A leaf is an fc_dict of at most
 * FC_KT_BURST entries; one more insert bursts it into a node with leaves one level down.
 *
 * Invariants: node->count and node->vol are the numbers of entries (and entries with an
 * expiry) in the subtree; node->min_exp and leaf->min_exp are lower bounds of the expiry times
 * below (INT64_MAX when none was ever added since the subtree was built). An attached leaf is
 * never empty between calls (whoever deletes tidies it), so a node whose count drops to 0 has
 * no child left and is freed (fc_kt_tidy, fc_kt_detach). Every key under a node
 * starts with its path. Leaf dicts never stay mid-rehash between calls. Leaves have increasing,
 * never reused ids and are listed in id order in a vector (holes allowed) that cursors (SCAN,
 * active expiry, background jobs) walk by id, so a burst, which moves keys to new leaves with
 * higher ids, never hides a key from a cursor.
 *
 * A detached subtree (fc_kt_detach) keeps its structure but has parent NULL; its leaves stay in
 * the vector until freed, and fc_kt_attached tells them apart. Ownership: the trie owns nodes,
 * leaves and tables; entries belong to the store, which frees them. Internal to storage/.
 */
#ifndef FC_STORAGE_KTRIE_H
#define FC_STORAGE_KTRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/dict.h"

#ifndef FC_KT_BURST /* overridable for tests (the fuzz build bursts after 8) */
#define FC_KT_BURST 1024
#endif
#define FC_KT_END 256
#define FC_KT_SLOTS 257

struct fc_knode;

typedef struct fc_kbase {
    struct fc_knode *parent; /* NULL for the root and for a detached subtree's top */
    uint16_t pslot;          /* index in parent->child */
    bool leaf;
} fc_kbase;

typedef struct fc_kleaf {
    fc_kbase b;
    fc_dict d;
    size_t vol;
    int64_t min_exp;
    uint64_t id;
    size_t vidx;      /* index in the trie's vector */
    int64_t pass_min; /* while in_pass: the least expiry seen by the active-expiry pass */
    bool in_pass;
} fc_kleaf;

typedef struct fc_knode {
    fc_kbase b;
    uint32_t depth;
    size_t count, vol;
    int64_t min_exp;
    char *path; /* depth bytes (NULL when depth is 0) */
    fc_kbase *child[FC_KT_SLOTS];
} fc_knode;

typedef struct fc_ktrie {
    fc_knode *root;
    uint64_t seed, k0, k1; /* seed of every leaf dict, and the hash key it derives */
    fc_kleaf **vec;        /* leaves by ascending id; NULL = hole */
    uint64_t *ids;         /* ids[i]: the id of vec[i] (kept for holes, for binary search) */
    size_t vlen, vcap, vholes;
    uint64_t next_id;
    size_t meta_bytes; /* allocator bytes of nodes, paths, leaves and tables, detached included */
} fc_ktrie;

/* Initialises an empty trie (root allocated). Returns false on out-of-memory. */
bool fc_kt_init(fc_ktrie *t, uint64_t seed);

/* Frees every node, leaf and table (not the entries) of the attached trie and the vector. */
void fc_kt_destroy(fc_ktrie *t);

uint64_t fc_kt_hash(const fc_ktrie *t, const char *key, size_t klen);

/* The link holding key, or NULL; *leaf gets its leaf when found. */
fc_entry **fc_kt_find(fc_ktrie *t, const char *key, size_t klen, uint64_t h, fc_kleaf **leaf);

/* The leaf a lookup of key would search, or NULL (no hashing, no dict access). */
const fc_kleaf *fc_kt_leaf_of(const fc_ktrie *t, const char *key, size_t klen);

/* Adds e (whose key must be absent) with hash h; may split a compressed path or burst a leaf.
 * Returns the leaf now holding e, or NULL on out-of-memory (nothing changed). */
fc_kleaf *fc_kt_insert(fc_ktrie *t, fc_entry *e, uint64_t h);

/* Removes *link (an entry of leaf) from the index; never frees the leaf (see fc_kt_tidy). */
void fc_kt_unlink(fc_ktrie *t, fc_kleaf *leaf, fc_entry **link);

/* After deletes in leaf, at a point where no link into it is held: shrinks its table, and frees
 * it (and any ancestor left empty) when it holds nothing. */
void fc_kt_tidy(fc_ktrie *t, fc_kleaf *leaf);

/* An entry of leaf changed its expiry from old to now (FC_NO_EXPIRE = 0 for none). */
void fc_kt_expire_changed(fc_ktrie *t, fc_kleaf *leaf, int64_t old, int64_t now);

/* The active-expiry pass over leaf starts / ends: at the end, the leaf's bound becomes the least
 * expiry it saw (or that was added meanwhile) and the ancestors' bounds are recomputed from their
 * children, so bounds rise again as keys expire. */
void fc_kt_pass_begin(fc_kleaf *leaf);
void fc_kt_pass_note(fc_kleaf *leaf, int64_t exp);
void fc_kt_pass_end(fc_kleaf *leaf);

static inline size_t fc_kt_count(const fc_kbase *x)
{
    return x->leaf ? ((const fc_kleaf *)x)->d.count : ((const fc_knode *)x)->count;
}

static inline size_t fc_kt_vol(const fc_kbase *x)
{
    return x->leaf ? ((const fc_kleaf *)x)->vol : ((const fc_knode *)x)->vol;
}

static inline int64_t fc_kt_min_exp(const fc_kbase *x)
{
    return x->leaf ? ((const fc_kleaf *)x)->min_exp : ((const fc_knode *)x)->min_exp;
}

/*
 * Where the keys starting with prefix p live: returns the subtree all of whose keys start with p
 * (NULL if none), or NULL with *partial set to the one leaf that holds every such key among
 * others (then the caller filters that leaf's at most FC_KT_BURST entries). O(plen).
 */
fc_kbase *fc_kt_prefix(fc_ktrie *t, const char *p, size_t plen, fc_kleaf **partial);

/* Detaches subtree x from the trie in O(depth): every lookup, count and cursor stops seeing it.
 * x must not be the root. Its leaves are freed later with fc_kt_free_leaf / fc_kt_free_node. */
void fc_kt_detach(fc_ktrie *t, fc_kbase *x);

/* Detaches the whole keyspace: returns the old root (a detached subtree) and installs a fresh
 * empty root; NULL on out-of-memory (nothing changed). */
fc_knode *fc_kt_detach_all(fc_ktrie *t);

bool fc_kt_attached(const fc_ktrie *t, const fc_kleaf *leaf);

/* Frees a drained leaf (its table and struct; it leaves the vector) or a node whose children the
 * caller has taken (only the node and its path). */
void fc_kt_free_leaf(fc_ktrie *t, fc_kleaf *leaf);
void fc_kt_free_node(fc_ktrie *t, fc_knode *node);

/* The attached leaf with the smallest id >= id, or NULL; *same tells whether its id is id. */
fc_kleaf *fc_kt_leaf_from(fc_ktrie *t, uint64_t id, bool *same);

/* A random attached leaf, chosen with probability close to proportional to its size (r is a
 * random-number source called a few times). NULL when the trie is empty. */
fc_kleaf *fc_kt_random_leaf(fc_ktrie *t, uint64_t (*r)(void *), void *rctx);

/* Whether key starts with the path of the node x is under (used to filter partial leaves). */
static inline bool fc_kt_has_prefix(const fc_entry *e, const char *p, size_t plen)
{
    return fc_entry_klen(e) >= plen && memcmp(fc_entry_key(e), p, plen) == 0;
}

#endif
