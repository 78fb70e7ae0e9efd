/*
 * t-dwtypes-cu2.c - the second compilation unit of t-dwtypes: types
 * whose anonymous parts have the same kind and size as the first unit's
 * but other members (see t-dwtypes.c).
 */
#include "t-dwtypes.h"

/* an anonymous union of 16 bytes without a pointer */
struct dw_other {
	int kind;
	union {
		long a;
		double b[2];
	} u;
};

/* an anonymous union of 16 bytes with a pointer (the first unit's
 * struct dw_holder2 has one without) */
struct dw_other2 {
	int kind;
	union {
		struct dw_leaf *leaf;
		long pad[2];
	} u;
};

/* an anonymous struct of 16 bytes a typedef names, without pointers */
typedef struct {
	long x, y;
} dw_plain;

struct dw_other dw_other_g;
struct dw_other2 dw_other2_g;
dw_plain dw_plain_g;
