/*
 * t-dwtypes.h - what both compilation units of t-dwtypes share.
 */
#ifndef HEAPGRAB_T_DWTYPES_H
#define HEAPGRAB_T_DWTYPES_H

struct dw_leaf {
	long v;
};

#endif /* HEAPGRAB_T_DWTYPES_H */
