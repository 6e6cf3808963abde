#include "data/image_folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb/stb_image.h>

#define FIX_LAYOUT "give a folder with one subfolder of PNG/JPEG images per class"

struct names {
	char **v;
	size_t n, cap;
};

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int names_add(struct names *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int join(char *out, size_t n, const char *dir, const char *name)
{
	size_t len = strlen(dir);
	int k = snprintf(out, n, "%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/", name);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

/* The entries of dir (not starting with '.'), sorted. */
static int list_dir(const char *dir, struct names *out, char *err, size_t errn)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	memset(out, 0, sizeof *out);
	if (!dp) {
		snprintf(err, errn, "%s: cannot open the folder: %s (check the path)", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (names_add(out, e->d_name)) {
			snprintf(err, errn, "%s: out of memory listing the folder", dir);
			closedir(dp);
			names_free(out);
			return -1;
		}
	}
	closedir(dp);
	if (out->n)
		qsort(out->v, out->n, sizeof *out->v, cmp_str);
	return 0;
}

/* One image to decode. */
struct item {
	char *path;
	int label;
};

struct items {
	struct item *v;
	size_t n, cap;
};

static void items_free(struct items *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int items_add(struct items *l, const char *path, int label)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct item *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n].path = strdup(path)))
		return -1;
	l->v[l->n].label = label;
	l->n++;
	return 0;
}

/* A directory with no subfolder is no image folder: when it holds a .bin
 * file under another name than CIFAR's official ones (the CIFAR reader
 * looks for those), name that file as what to give rather than call it "a
 * file beside the class folders".  1 when said in err, else 0 (the checks
 * below say what they find). */
static int bin_without_folders(const char *dir, const struct names *entries, char *err,
			       size_t errn)
{
	const char *bin = NULL;
	char path[4096];
	for (size_t k = 0; k < entries->n; k++) {
		struct stat st;
		size_t len = strlen(entries->v[k]);
		if (!join(path, sizeof path, dir, entries->v[k]) && stat(path, &st) == 0 &&
		    S_ISDIR(st.st_mode))
			return 0;
		if (!bin && len > 4 && !strcmp(entries->v[k] + len - 4, ".bin"))
			bin = entries->v[k];
	}
	if (!bin)
		return 0;
	snprintf(err, errn, "%s: holds no class subfolders and none of CIFAR's data_batch_1.bin .. "
		 "data_batch_5.bin or train.bin (give the file itself: --data %s/%s)", dir, dir, bin);
	return 1;
}

/* Lists every image with its class; checks the layout, each image's
 * header (stbi_info) and that all share the first one's size. */
static int scan(const char *dir, struct items *it, int *classes, int *w, int *h, int *comp,
		char *err, size_t errn)
{
	struct names cls;
	char path[4096];
	memset(it, 0, sizeof *it);
	if (list_dir(dir, &cls, err, errn))
		return -1;
	if (cls.n == 0) {
		snprintf(err, errn, "%s: the directory holds none of data_batch_1.bin .. data_batch_5.bin (CIFAR-10), train.bin (CIFAR-100), images.npy or class subfolders of images (give the extracted cifar-10-batches-bin directory, a .bin or .npy file, or an image folder)",
			 dir);
		names_free(&cls);
		return -1;
	}
	if (cls.n > 100000) {
		snprintf(err, errn, "%s: %zu class folders, more than the 100000 supported", dir, cls.n);
		names_free(&cls);
		return -1;
	}
	if (bin_without_folders(dir, &cls, err, errn)) {
		names_free(&cls);
		return -1;
	}
	for (size_t k = 0; k < cls.n; k++) {
		struct stat st;
		struct names files;
		if (join(path, sizeof path, dir, cls.v[k]) || stat(path, &st) != 0) {
			snprintf(err, errn, "%s/%s: cannot read it (check the path)", dir, cls.v[k]);
			goto fail;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errn, "%s: is a file beside the class folders: not a CIFAR binary, .npy file or image folder (move it out; %s)",
				 path, FIX_LAYOUT);
			goto fail;
		}
		char cdir[4096];
		snprintf(cdir, sizeof cdir, "%s", path);
		if (list_dir(cdir, &files, err, errn))
			goto fail;
		if (files.n == 0) {
			snprintf(err, errn, "%s: the class folder holds no images (add images or remove the folder)", cdir);
			names_free(&files);
			goto fail;
		}
		for (size_t i = 0; i < files.n; i++) {
			int iw, ih, ic;
			if (join(path, sizeof path, cdir, files.v[i])) {
				snprintf(err, errn, "%s/%s: path too long (use shorter names)", cdir, files.v[i]);
				names_free(&files);
				goto fail;
			}
			/* A folder inside a class folder is not read (stb would
			 * call it an unknown image type): say what it is. */
			struct stat fst;
			if (stat(path, &fst) == 0 && S_ISDIR(fst.st_mode)) {
				snprintf(err, errn, "%s: is a folder inside a class folder: images must sit directly in their class folder (move its images up, or remove it)",
					 path);
				names_free(&files);
				goto fail;
			}
			if (!stbi_info(path, &iw, &ih, &ic)) {
				snprintf(err, errn, "%s: not a PNG or JPEG image (%s; remove it from the class folder)",
					 path, stbi_failure_reason() ? stbi_failure_reason() : "unknown format");
				names_free(&files);
				goto fail;
			}
			if (it->n == 0) {
				*w = iw;
				*h = ih;
				*comp = ic <= 2 ? 1 : 3; /* alpha dropped */
			} else if (iw != *w || ih != *h) {
				snprintf(err, errn, "%s: is %dx%d but %s is %dx%d (resize all images to one size)",
					 path, iw, ih, it->v[0].path, *w, *h);
				names_free(&files);
				goto fail;
			}
			if (items_add(it, path, (int)k)) {
				snprintf(err, errn, "%s: out of memory listing the images", path);
				names_free(&files);
				goto fail;
			}
		}
		names_free(&files);
	}
	*classes = (int)cls.n;
	names_free(&cls);
	return 0;
fail:
	names_free(&cls);
	items_free(it);
	return -1;
}

int mn_image_folder_load(struct mn_dataset *d, const char *dir, char *err, size_t errn)
{
	struct items it;
	int classes, w, h, comp;
	memset(d, 0, sizeof *d);
	if (scan(dir, &it, &classes, &w, &h, &comp, err, errn))
		return -1;
	if (mn_dataset_alloc(d, it.n, h, w, comp, 0, err, errn)) {
		items_free(&it);
		return -1;
	}
	size_t plane = (size_t)w * (size_t)h;
	for (size_t i = 0; i < it.n; i++) {
		int iw, ih, ic;
		unsigned char *px = stbi_load(it.v[i].path, &iw, &ih, &ic, comp);
		if (!px || iw != w || ih != h) {
			snprintf(err, errn, "%s: cannot decode the image (%s; re-save it or remove it)", it.v[i].path,
				 px ? "its size changed while reading" : stbi_failure_reason() ? stbi_failure_reason() : "corrupt");
			stbi_image_free(px);
			items_free(&it);
			mn_dataset_free(d);
			return -1;
		}
		/* stb gives rows of interleaved channels; the set keeps planes. */
		for (size_t p = 0; p < plane; p++)
			for (int c = 0; c < comp; c++)
				d->pixels[(i * (size_t)comp + (size_t)c) * plane + p] = px[p * (size_t)comp + (size_t)c];
		d->labels[i] = it.v[i].label;
		stbi_image_free(px);
	}
	items_free(&it);
	d->classes = classes;
	d->files = d->count;
	if (mn_dataset_set_stats(d, NULL, NULL, err, errn)) {
		mn_dataset_free(d);
		return -1;
	}
	snprintf(d->format, sizeof d->format, "image folder");
	return 0;
}
