/* A directory of PNG/JPEG images in the ImageFolder layout (as torchvision
 * reads it): one subfolder per class, classes numbered in the byte order of
 * their names (strcmp), images in each folder in name order.  Decoded with
 * stb_image (Debian's libstb-dev).
 *
 * Every image must have the width and height of the first one (the folder
 * is one data set: resize beforehand).  The channel count is the first
 * image's: 1 for grayscale, 3 for colour (an alpha channel is dropped);
 * other images are converted to it.  Names starting with '.' are ignored;
 * anything else that is not a decodable image, a class folder with no
 * images, or a file beside the class folders is refused with one line. */
#ifndef MN_IMAGE_FOLDER_H
#define MN_IMAGE_FOLDER_H

#include <stddef.h>

#include "data/dataset.h"

int mn_image_folder_load(struct mn_dataset *d, const char *dir, char *err, size_t errn);

#endif
