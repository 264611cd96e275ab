/* nn_module.c - the parameter and module registry of nn_module.h. */
#include "nn_module.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nn_module_init(struct nn_module *m, const char *name, nn_forward_fn forward,
                    void (*free_impl)(struct nn_module *m)) {
    memset(m, 0, sizeof *m);
    TN_CHECK(strlen(name) < NN_NAME_MAX, "nn_module_init", "name too long: %s", name);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->forward = forward;
    m->free_impl = free_impl;
    m->training = true;
}

static struct tn_tensor *add_named(struct nn_named_tensor **list, int *n, const char *name,
                                   struct tn_tensor *t) {
    TN_CHECK(strlen(name) < NN_NAME_MAX, "nn_module", "name too long: %s", name);
    for (int i = 0; i < *n; i++)
        TN_CHECK(strcmp((*list)[i].name, name) != 0, "nn_module", "%s registered twice", name);
    struct nn_named_tensor *grown = realloc(*list, (size_t)(*n + 1) * sizeof *grown);
    TN_CHECK(grown, "nn_module", "out of host memory");
    *list = grown;
    snprintf(grown[*n].name, NN_NAME_MAX, "%s", name);
    grown[*n].tensor = tn_retain(t);
    (*n)++;
    return t;
}

struct tn_tensor *nn_module_add_param(struct nn_module *m, const char *name, struct tn_tensor *t) {
    TN_CHECK(t->grad_fn == NULL, "nn_module_add_param", "%s must be a leaf tensor", name);
    tn_set_requires_grad(t, true);
    return add_named(&m->params, &m->n_params, name, t);
}

struct tn_tensor *nn_module_add_buffer(struct nn_module *m, const char *name, struct tn_tensor *t) {
    return add_named(&m->buffers, &m->n_buffers, name, t);
}

void nn_module_set_buffer(struct nn_module *m, const char *name, struct tn_tensor *t) {
    for (int i = 0; i < m->n_buffers; i++)
        if (strcmp(m->buffers[i].name, name) == 0) {
            tn_retain(t);
            tn_release(m->buffers[i].tensor);
            m->buffers[i].tensor = t;
            return;
        }
    TN_FATAL("nn_module_set_buffer", "module %s has no buffer %s", m->name, name);
}

struct nn_module *nn_module_add_child(struct nn_module *m, struct nn_module *child) {
    for (int i = 0; i < m->n_children; i++)
        TN_CHECK(strcmp(m->children[i]->name, child->name) != 0, "nn_module_add_child",
                 "%s already has a child named %s", m->name, child->name);
    struct nn_module **grown = realloc(m->children, (size_t)(m->n_children + 1) * sizeof *grown);
    TN_CHECK(grown, "nn_module_add_child", "out of host memory");
    m->children = grown;
    m->children[m->n_children++] = child;
    return child;
}

struct tn_tensor *nn_forward(struct nn_module *m, struct tn_tensor *x) {
    TN_CHECK(m->forward, "nn_forward", "module %s has no one-tensor forward", m->name);
    return m->forward(m, x);
}

void nn_module_train(struct nn_module *m, bool training) {
    m->training = training;
    for (int i = 0; i < m->n_children; i++) nn_module_train(m->children[i], training);
}

void nn_module_set_requires_grad(struct nn_module *m, bool requires_grad) {
    for (int i = 0; i < m->n_params; i++) tn_set_requires_grad(m->params[i].tensor, requires_grad);
    for (int i = 0; i < m->n_children; i++) nn_module_set_requires_grad(m->children[i], requires_grad);
}

void nn_module_zero_grad(struct nn_module *m) {
    for (int i = 0; i < m->n_params; i++) ag_zero_grad(m->params[i].tensor);
    for (int i = 0; i < m->n_children; i++) nn_module_zero_grad(m->children[i]);
}

int64_t nn_module_param_count(const struct nn_module *m) {
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++) n += m->params[i].tensor->numel;
    for (int i = 0; i < m->n_children; i++) n += nn_module_param_count(m->children[i]);
    return n;
}

void nn_entry_list_add(struct nn_entry_list *list, const char *prefix, const char *name,
                       struct tn_tensor *t, bool is_buffer) {
    if (list->n == list->cap) {
        int cap = list->cap ? 2 * list->cap : 32;
        struct nn_entry *grown = realloc(list->items, (size_t)cap * sizeof *grown);
        TN_CHECK(grown, "nn_module_collect", "out of host memory");
        list->items = grown;
        list->cap = cap;
    }
    struct nn_entry *e = &list->items[list->n++];
    int len = snprintf(e->name, sizeof e->name, "%s%s%s", prefix, *prefix ? "." : "", name);
    TN_CHECK(len < (int)sizeof e->name, "nn_module_collect", "dotted name too long");
    e->tensor = t;
    e->is_buffer = is_buffer;
}

void nn_module_collect(struct nn_module *m, const char *prefix, bool with_buffers,
                       struct nn_entry_list *list) {
    for (int i = 0; i < m->n_params; i++)
        nn_entry_list_add(list, prefix, m->params[i].name, m->params[i].tensor, false);
    if (with_buffers)
        for (int i = 0; i < m->n_buffers; i++)
            nn_entry_list_add(list, prefix, m->buffers[i].name, m->buffers[i].tensor, true);
    for (int i = 0; i < m->n_children; i++) {
        char child_prefix[4 * NN_NAME_MAX];
        int len = snprintf(child_prefix, sizeof child_prefix, "%s%s%s", prefix, *prefix ? "." : "",
                           m->children[i]->name);
        TN_CHECK(len < (int)sizeof child_prefix, "nn_module_collect", "dotted name too long");
        nn_module_collect(m->children[i], child_prefix, with_buffers, list);
    }
}

void nn_entry_list_free(struct nn_entry_list *list) {
    free(list->items);
    *list = (struct nn_entry_list){0};
}

struct tn_tensor *nn_module_find(struct nn_module *m, const char *dotted_name) {
    struct nn_entry_list list = {0};
    nn_module_collect(m, "", true, &list);
    struct tn_tensor *found = NULL;
    for (int i = 0; i < list.n && !found; i++)
        if (strcmp(list.items[i].name, dotted_name) == 0) found = list.items[i].tensor;
    nn_entry_list_free(&list);
    return found;
}

enum tn_status nn_module_to_device(struct nn_module *m, struct tn_device device) {
    struct nn_entry_list list = {0};
    nn_module_collect(m, "", true, &list);
    enum tn_status st = TN_OK;
    for (int i = 0; i < list.n && st == TN_OK; i++) {
        ag_zero_grad(list.items[i].tensor);
        st = tn_move_to_device(list.items[i].tensor, device);
    }
    nn_entry_list_free(&list);
    return st;
}

void nn_module_free(struct nn_module *m) {
    if (!m) return;
    for (int i = 0; i < m->n_children; i++) nn_module_free(m->children[i]);
    for (int i = 0; i < m->n_params; i++) tn_release(m->params[i].tensor);
    for (int i = 0; i < m->n_buffers; i++) tn_release(m->buffers[i].tensor);
    free(m->children);
    free(m->params);
    free(m->buffers);
    if (m->free_impl) m->free_impl(m);
    free(m);
}

bool nn_tensor_all_finite(const struct tn_tensor *t) {
    float *values = malloc((size_t)(t->numel > 0 ? t->numel : 1) * sizeof(float));
    TN_CHECK(values, "nn_tensor_all_finite", "out of host memory");
    tn_to_host(t, values);
    int64_t i = 0;
    while (i < t->numel && isfinite(values[i])) i++;
    free(values);
    return i == t->numel;
}

bool nn_module_find_nonfinite(struct nn_module *m, const char *prefix, char *name, size_t size) {
    struct nn_entry_list list = {0};
    nn_module_collect(m, prefix, true, &list);
    int i = 0;
    while (i < list.n && nn_tensor_all_finite(list.items[i].tensor)) i++;
    bool found = i < list.n;
    if (found) snprintf(name, size, "%s", list.items[i].name);
    nn_entry_list_free(&list);
    return found;
}
