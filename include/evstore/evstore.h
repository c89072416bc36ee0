/*
 * evstore/evstore.h - umbrella header for the core library (libevstore): the
 * engine, upcasters, snapshots, aggregates and subscriptions. The bank domain
 * (<evstore/bank.h>, libevstore-bank) and audit dumps (<evstore/audit.h>,
 * libevstore-audit) are libraries of their own, included on their own.
 */
#ifndef EVSTORE_H
#define EVSTORE_H

#include <evstore/errors.h>
#include <evstore/engine.h>
#include <evstore/import.h>
#include <evstore/check.h>
#include <evstore/checkpoint.h>
#include <evstore/upcaster.h>
#include <evstore/snapshot.h>
#include <evstore/aggregate.h>
#include <evstore/migrate.h>
#include <evstore/subscription.h>
#include <evstore/projection.h>

#endif
