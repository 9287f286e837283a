package dev.ascendj.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * I/O failures in a user's terms: {@code /data/run/x.safetensors: no space left on device}
 * rather than the bare path that {@link NoSuchFileException#getMessage()} gives, or an exception
 * class name. Messages that say what could not be done append this as the cause:
 * {@code "cannot write checkpoint " + dir + ": " + IoErrors.describe(e)}.
 */
public final class IoErrors {
    private IoErrors() {
    }

    /** The file (when the exception names one) and the cause, in words. */
    public static String describe(IOException e) {
        String file = e instanceof FileSystemException f ? f.getFile() : null;
        String reason = reason(e);
        return file == null || reason.contains(file) ? reason : file + ": " + reason;
    }

    /** As {@link #describe(IOException)}, for the I/O exception wrapped by {@code e}. */
    public static String describe(UncheckedIOException e) {
        return describe(e.getCause());
    }

    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return lowerFirst(f.getReason());
        }
        if (e instanceof CharacterCodingException) {
            return "not valid UTF-8 text";
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : lowerFirst(m);
    }

    private static String lowerFirst(String s) {
        // "No space left on device" -> "no space left on device"; keep acronyms ("EOF") as they are.
        if (s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isLowerCase(s.charAt(1))) {
            return Character.toLowerCase(s.charAt(0)) + s.substring(1);
        }
        return s;
    }
}
